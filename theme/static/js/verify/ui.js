// A minimal, accessible rendering of verifyTask results for the portal's 验证 page (optional: the page
// may render `steps` itself). Untrusted text is only ever set with textContent.
//
//   const ui = createReport(document.getElementById('verify-report'));
//   const result = await verifyTask(logUrl, taskId, { onStep: ui.step });
//   ui.done(result);
//
// Markup: <ol class="verify-steps" aria-live="polite"> with one <li class="verify-step is-ok|is-fail|
// is-na" data-step="id"> per step: a status word (通过 / 未通过 / 不适用), the label and the detail;
// then a summary <p class="verify-summary" role="status"> and, if any, a list of warnings.

const STATUS = { true: ['is-ok', '通过'], false: ['is-fail', '未通过'], null: ['is-na', '不适用'] };

function el(doc, tag, cls, text) {
  const e = doc.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

export function createReport(container) {
  const doc = container.ownerDocument;
  container.textContent = '';
  const list = el(doc, 'ol', 'verify-steps');
  list.setAttribute('aria-live', 'polite');
  container.append(list);
  const step = (s) => {
    const [cls, word] = STATUS[String(s.ok)];
    const li = el(doc, 'li', `verify-step ${cls}`);
    li.dataset.step = s.id;
    li.append(el(doc, 'strong', 'verify-status', word), ' ', el(doc, 'span', 'verify-label', s.label_zh));
    if (s.detail_zh) li.append(el(doc, 'p', 'verify-detail', s.detail_zh));
    if (s.ok === false && s.detail) {
      const d = el(doc, 'details', 'verify-technical');
      d.append(el(doc, 'summary', '', '技术细节'), el(doc, 'code', '', s.detail));
      li.append(d);
    }
    const old = list.querySelector(`[data-step="${s.id}"]`);
    if (old) old.replaceWith(li); else list.append(li);
  };
  const done = (result) => {
    for (const s of result.steps) step(s);
    const failed = result.steps.find((s) => s.ok === false);
    const p = el(doc, 'p', `verify-summary ${result.ok ? 'is-ok' : 'is-fail'}`,
      result.ok ? `任务 ${result.task} 的抽取结果经独立重算验证无误。`
        : failed ? `任务 ${result.task} 未通过验证：${failed.label_zh}未通过。` : `任务 ${result.task} 暂无法完成验证（尚未锁定结果或名单尚未公布）。`);
    p.setAttribute('role', 'status');
    container.append(p);
    if (result.warnings.length) {
      const ul = el(doc, 'ul', 'verify-warnings');
      for (const w of result.warnings) ul.append(el(doc, 'li', '', w));
      container.append(el(doc, 'p', 'verify-warnings-title', '提示：'), ul);
    }
  };
  return { step, done };
}
