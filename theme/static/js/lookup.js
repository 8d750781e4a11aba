// Exact look-up of a target by code (USCC) or full name — see sunshine/portal/lookup.py.
// Shard = FNV-1a 32-bit over the UTF-8 bytes of the normalised key, modulo the shard count.
(function () {
  "use strict";
  var form = document.getElementById("lookup");
  var out = document.getElementById("lookup-result");
  if (!form || !out || !window.fetch) return;
  var base = form.getAttribute("data-index");
  var root = base.replace(/search\/lookup\/$/, "");
  var meta = null;

  function normalise(s) {
    return s.normalize("NFKC").replace(/\s+/g, "").toUpperCase();
  }
  function fnv1a32(s) {
    var bytes = new TextEncoder().encode(s), h = 0x811c9dc5;
    for (var i = 0; i < bytes.length; i++) {
      h ^= bytes[i];
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h >>> 0;
  }
  function show(rows, q) {
    out.textContent = "";
    if (!rows || !rows.length) {
      var p = document.createElement("p");
      p.textContent = "未找到与“" + q + "”完全一致的检查对象。可以改用全文搜索。";
      out.appendChild(p);
      return;
    }
    var ul = document.createElement("ul");
    ul.className = "list";
    rows.forEach(function (r) {
      var li = document.createElement("li"), a = document.createElement("a");
      a.href = root + r[2];
      a.textContent = r[1];
      li.appendChild(a);
      li.appendChild(document.createTextNode(" " + r[0]));
      ul.appendChild(li);
    });
    out.appendChild(ul);
  }
  function getJSON(url) {
    return fetch(url).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.json();
    });
  }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var q = document.getElementById("lookup-q").value;
    var key = normalise(q);
    if (!key) return;
    out.textContent = "查询中…";
    (meta ? Promise.resolve(meta) : getJSON(base + "meta.json")).then(function (m) {
      meta = m;
      return getJSON(base + (fnv1a32(key) % m.shards) + ".json");
    }).then(function (shard) {
      show(shard[key], q);
    }).catch(function () {
      out.textContent = "查询索引无法加载（本地文件方式打开时浏览器可能禁止读取），请改用全文搜索或开放数据。";
    });
  });
})();
