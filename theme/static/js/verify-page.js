// The 在浏览器中验证 page: runs verifyTask (theme/static/js/verify/site.js) on the published ledger
// (ledger/log/, relative to this page) and shows each step in Chinese as it finishes. The last
// checkpoint seen is kept in localStorage, so a later visit detects a ledger that was rewritten.
import { verifyTask } from './verify/site.js';

const form = document.getElementById('verify');
const list = document.getElementById('verify-steps');
const status = document.getElementById('verify-status');
const targetOut = document.getElementById('verify-target-result');
const storeKey = 'sunshine-checkpoint:' + form.dataset.origin;

function mark(ok) {
  return ok === true ? '通过' : ok === false ? '未通过' : '不适用';
}

function showStep(step) {
  const li = document.createElement('li');
  li.className = 'step step-' + (step.ok === true ? 'ok' : step.ok === false ? 'fail' : 'na');
  const strong = document.createElement('strong');
  strong.textContent = step.label_zh + '：' + mark(step.ok);
  li.appendChild(strong);
  if (step.detail_zh) {
    li.appendChild(document.createTextNode(' ' + step.detail_zh));
  }
  list.appendChild(li);
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  list.textContent = '';
  targetOut.textContent = '';
  const task = form.elements.task.value;
  const target = form.elements.target.value.trim();
  status.textContent = '正在验证任务 ' + task + '…';
  let previous = null;
  try { previous = localStorage.getItem(storeKey); } catch (e) { /* storage may be disabled */ }
  try {
    const res = await verifyTask(new URL(form.dataset.log, location.href).href, task, {
      previousCheckpoint: previous || undefined,
      target: target || undefined,
      onStep: showStep,
    });
    // res.status: 'ok', 'failed', or 'incomplete' (nothing failed, but the draw cannot be checked yet:
    // not locked, or a no-notice list not yet revealed) — docs/verifier-js.md.
    status.textContent = {
      ok: '验证通过：本任务的抽取可以由公开数据完全重现。',
      incomplete: '暂不能完整验证：已核对的各项均通过，但本任务尚未锁定或名单尚未公开，见下方各步骤。',
    }[res.status] || '验证未通过，原因见下方标为“未通过”的步骤。';
    status.className = res.status === 'ok' ? 'ok' : 'warn';
    if (res.ok && res.checkpoint) {
      try { localStorage.setItem(storeKey, res.checkpoint); } catch (e) { /* ignore */ }
    }
    if (res.target) {
      const t = res.target;
      targetOut.textContent = t.selected
        ? `${target}：分层“${t.stratum}”，签值 ${t.ticket}，第 ${t.rank} 名（本层 ${t.size} 户抽 ${t.sample} 户），入选分界 ${t.cutoff}：已抽中。`
        : `${target}：分层“${t.stratum}”，签值 ${t.ticket}，第 ${t.rank} 名（本层 ${t.size} 户抽 ${t.sample} 户），入选分界 ${t.cutoff}：未抽中。`;
    }
  } catch (e) {
    status.textContent = '验证过程出错：' + (e && e.message ? e.message : String(e));
    status.className = 'warn';
  }
});
