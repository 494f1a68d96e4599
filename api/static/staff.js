// zhrag staff pages: documents, retrieval testing, feedback review, keys, audit.
// No framework and no CDN (an intranet has no internet); text is always set with
// textContent, never innerHTML, because article text and feedback are user input.
(function () {
  "use strict";
  var base = location.pathname.replace(/\/staff\/?$/, "");
  var RANK = { reader: 0, editor: 1, admin: 2 };
  var KEY = "zhrag.staff.key";
  var key = sessionStorage.getItem(KEY);
  var me = null;
  var PAGE = 50, docOffset = 0;
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function td(tr, text, cls) { var c = el("td", cls, text); tr.appendChild(c); return c; }
  function when(t) { return t ? new Date(t * 1000).toLocaleString("zh-CN", { hour12: false }) : ""; }

  function errorText(status, body) {
    try {
      var j = JSON.parse(body);
      if (Array.isArray(j.detail)) return j.detail.map(function (d) { return (d.loc || []).slice(1).join(".") + "：" + d.msg; }).join("；");
      if (j.detail) return String(j.detail);
    } catch (e) { /* not JSON */ }
    return "服务出错（" + status + "）";
  }

  function api(method, path, body) {
    var headers = { "Authorization": "Bearer " + key };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(base + path, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (r) {
        if (r.status === 204) return null;
        return r.text().then(function (t) {
          if (!r.ok) throw new Error(errorText(r.status, t));
          return t ? JSON.parse(t) : null;
        });
      });
  }
  function shown(p) { return p.catch(function (err) { $("error").textContent = err.message; throw err; }); }

  // ---------------------------------------------------------------- login and tabs
  function login(k) {
    key = k;
    return fetch(base + "/auth/whoami", { headers: { "Authorization": "Bearer " + k } }).then(function (r) {
      if (!r.ok) return r.text().then(function (t) { throw new Error(errorText(r.status, t)); });
      return r.json();
    }).then(function (who) {
      me = who;
      sessionStorage.setItem(KEY, k);
      $("login").hidden = true;
      $("tabs").hidden = false;
      $("logout").hidden = false;
      $("who").textContent = who.name + " · " + { reader: "只读", editor: "编辑", admin: "管理员" }[who.role];
      var first = null;
      document.querySelectorAll("#tabs button").forEach(function (b) {
        b.hidden = RANK[me.role] < RANK[b.dataset.role];
        if (!b.hidden && !first) first = b.dataset.tab;
      });
      show(location.hash.slice(1) || first);
    });
  }
  function show(tab) {
    var btn = document.querySelector('#tabs button[data-tab="' + tab + '"]');
    if (!btn || btn.hidden) btn = Array.prototype.find.call(document.querySelectorAll("#tabs button"), function (b) { return !b.hidden; });
    tab = btn.dataset.tab;
    document.querySelectorAll("#tabs button").forEach(function (b) { b.classList.toggle("active", b === btn); });
    document.querySelectorAll("main > section").forEach(function (s) { s.hidden = s.id !== tab; });
    $("error").textContent = "";
    history.replaceState(null, "", "#" + tab);
    ({ documents: loadDocs, feedback: loadFeedback, keys: loadKeys, audit: loadAudit, retrieval: function () {} })[tab]();
  }
  document.querySelectorAll("#tabs button").forEach(function (b) {
    b.addEventListener("click", function () { show(b.dataset.tab); });
  });
  $("key").required = false;
  $("login-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    $("login-error").textContent = "";
    login($("key").value.trim() || "none").catch(function (err) { $("login-error").textContent = err.message; });
  });
  $("logout").addEventListener("click", function () { sessionStorage.removeItem(KEY); location.hash = ""; location.reload(); });

  function filterParams(form) {
    var p = new URLSearchParams();
    ["q", "collection", "column", "source", "person", "date_from", "date_to"].forEach(function (n) {
      var f = form.elements[n];
      if (f && f.value.trim()) p.set(n, f.value.trim());
    });
    return p;
  }

  // ---------------------------------------------------------------- documents
  function loadDocs() {
    var p = filterParams($("doc-filter"));
    p.set("offset", docOffset);
    p.set("limit", PAGE);
    shown(api("GET", "/documents?" + p)).then(function (docs) {
      var body = $("doc-rows");
      body.textContent = "";
      docs.forEach(function (d) {
        var tr = el("tr", "clickable" + (d.disabled ? " off" : ""));
        tr.dataset.id = d.doc_id;
        td(tr, d.title);
        td(tr, d.collection);
        td(tr, d.meta.column || "");
        td(tr, d.meta.source || "");
        td(tr, d.meta.date || "");
        td(tr, String(d.chars));
        td(tr, String(d.chunks));
        td(tr, "").appendChild(el("span", d.disabled ? "tag off" : "tag on", d.disabled ? "已停用" : "启用"));
        tr.addEventListener("click", function () { openDoc(d.doc_id); });
        body.appendChild(tr);
      });
      $("doc-page").textContent = docs.length ? "第 " + (docOffset + 1) + "–" + (docOffset + docs.length) + " 篇" : "没有文章";
      $("doc-prev").disabled = docOffset === 0;
      $("doc-next").disabled = docs.length < PAGE;
    });
  }
  $("doc-filter").addEventListener("submit", function (ev) { ev.preventDefault(); docOffset = 0; loadDocs(); });
  $("doc-prev").addEventListener("click", function () { docOffset = Math.max(0, docOffset - PAGE); loadDocs(); });
  $("doc-next").addEventListener("click", function () { docOffset += PAGE; loadDocs(); });

  function highlighted(text, spans) {
    var p = el("div", "text"), pos = 0;
    spans.slice().sort(function (a, b) { return a.char_start - b.char_start; }).forEach(function (s) {
      if (s.char_start < pos) return;
      p.appendChild(document.createTextNode(text.slice(pos, s.char_start)));
      var m = el("mark", null, text.slice(s.char_start, s.char_end));
      m.title = "被回答引用 " + s.times + " 次";
      p.appendChild(m);
      pos = s.char_end;
    });
    p.appendChild(document.createTextNode(text.slice(pos)));
    return p;
  }

  function openDoc(id) {
    shown(api("GET", "/documents/" + encodeURIComponent(id) + "/view")).then(function (a) {
      var v = $("doc-view");
      v.hidden = false;
      v.textContent = "";
      v.appendChild(el("h2", null, a.title));
      var meta = [];
      Object.keys(a.meta).forEach(function (k) {
        var val = a.meta[k];
        if (k === "reprints") {  // the same story elsewhere: recorded here, not indexed twice
          val = val.map(function (r) { return "《" + r.title + "》" + [r.source, r.date].filter(Boolean).join(" "); });
          meta.push("另见：" + val.join("；"));
        } else if (val !== "" && val != null) {
          meta.push(k + "：" + (Array.isArray(val) ? val.join("、") : typeof val === "object" ? JSON.stringify(val) : val));
        }
      });
      meta.push("编号：" + a.doc_id);
      v.appendChild(el("div", "meta", meta.join(" · ")));
      var actions = el("div", "row");
      var toggle = el("button", "ghost", a.disabled ? "启用文章" : "停用文章");
      toggle.type = "button";
      toggle.addEventListener("click", function () {
        shown(api("PUT", "/documents/" + encodeURIComponent(id) + "/disabled", { disabled: !a.disabled }))
          .then(function () { openDoc(id); loadDocs(); });
      });
      var del = el("button", "danger", "删除文章");
      del.type = "button";
      del.addEventListener("click", function () {
        if (!confirm("删除《" + a.title + "》？此操作不可撤销。")) return;
        shown(api("DELETE", "/documents/" + encodeURIComponent(id))).then(function () { v.hidden = true; loadDocs(); });
      });
      actions.appendChild(toggle);
      actions.appendChild(del);
      actions.appendChild(el("span", "hint", a.cited.length ? "黄色为回答引用过的句子" : "尚无回答引用此文"));
      v.appendChild(actions);
      v.appendChild(highlighted(a.text, a.cited));
      v.appendChild(el("h3", null, "检索段落（" + a.chunks.length + "）"));
      var list = el("ol", "chunks");
      a.chunks.forEach(function (c) {
        var li = el("li", c.disabled ? "off" : "");
        li.dataset.chunk = c.chunk_id;
        li.appendChild(el("span", "hint", c.char_start + "–" + c.char_end));
        li.appendChild(el("span", "t", c.text));
        var b = el("button", "ghost", c.disabled ? "启用" : "停用");
        b.type = "button";
        b.addEventListener("click", function () {
          shown(api("PUT", "/documents/" + encodeURIComponent(id) + "/chunks/" + encodeURIComponent(c.chunk_id) + "/disabled",
            { disabled: !c.disabled })).then(function () { openDoc(id); });
        });
        li.appendChild(b);
        list.appendChild(li);
      });
      v.appendChild(list);
      v.scrollIntoView({ block: "start" });
    });
  }

  // One request per file, one after another, each with its own progress bar and result.
  $("files").addEventListener("change", function () {
    var files = Array.prototype.slice.call($("files").files);
    var list = $("uploads");
    list.textContent = "";
    var rows = files.map(function (f) {
      var li = el("li", null, f.name + " ");
      var bar = el("progress");
      bar.max = 100;
      bar.value = 0;
      li.appendChild(bar);
      var status = el("span", null, " 等待中");
      li.appendChild(status);
      list.appendChild(li);
      return { file: f, li: li, bar: bar, status: status };
    });
    var next = function (i) {
      if (i >= rows.length) { $("files").value = ""; loadDocs(); return; }
      var r = rows[i];
      var form = new FormData();
      form.append("file", r.file);
      form.append("collection", $("upload-collection").value.trim() || "default");
      var xhr = new XMLHttpRequest();
      xhr.open("POST", base + "/documents/upload");
      xhr.setRequestHeader("Authorization", "Bearer " + key);
      xhr.upload.onprogress = function (e) { if (e.lengthComputable) r.bar.value = Math.round(100 * e.loaded / e.total); };
      r.status.textContent = " 上传中…";
      xhr.onload = function () {
        r.bar.value = 100;
        if (xhr.status === 201) {
          var j = JSON.parse(xhr.responseText);
          r.li.className = "ok";
          r.status.textContent = " 新增 " + j.added + " 篇，更新 " + j.replaced + " 篇，未变 " + j.unchanged + " 篇";
        } else {
          r.li.className = "bad";
          r.status.textContent = " 失败：" + errorText(xhr.status, xhr.responseText);
        }
        next(i + 1);
      };
      xhr.onerror = function () { r.li.className = "bad"; r.status.textContent = " 失败：无法连接服务"; next(i + 1); };
      xhr.send(form);
    };
    next(0);
  });

  // ---------------------------------------------------------------- retrieval testing
  $("rt-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var f = ev.target.elements;
    var filters = {};
    if (f.collection.value.trim()) filters.collections = [f.collection.value.trim()];
    if (f.column.value.trim()) filters.columns = [f.column.value.trim()];
    if (f.date_from.value) filters.date_from = f.date_from.value;
    if (f.date_to.value) filters.date_to = f.date_to.value;
    var body = { question: f.question.value, top_k: Number(f.top_k.value) || 5, mode: f.mode.value };
    if (Object.keys(filters).length) body.filters = filters;
    $("error").textContent = "";
    shown(api("POST", "/retrieval-test", body)).then(function (r) {
      var a = $("rt-answer");
      a.hidden = false;
      a.className = "answer" + (r.refused ? " refused" : "");
      var reasons = { no_passages: "没有检索到段落", not_relevant: "段落与问题不够接近", focus_missing: "段落没有提到问题所问的对象", name_unknown: "没有文章提到问题中的名称", name_missing: "相关文章没有提到问题中的名称", entity_missing: "段落没有提到问题中的地点或机构" };
      a.textContent = (r.refused ? "拒答（" + (reasons[r.refusal_reason] || r.refusal_reason) + "）：" : "回答：") + r.answer;
      var rows = $("rt-rows");
      rows.textContent = "";
      r.hits.forEach(function (h) {
        var tr = el("tr", h.used ? "used" : "");
        td(tr, String(h.rank));
        var cell = td(tr, "");
        cell.appendChild(el("div", null, "《" + h.title + "》 " + h.char_start + "–" + h.char_end));
        cell.appendChild(el("div", "hint", h.text.slice(0, 160)));
        td(tr, h.score.toFixed(3));
        td(tr, h.dense_score == null ? "—" : h.dense_score.toFixed(3));
        td(tr, h.bm25_score == null ? "—" : h.bm25_score.toFixed(2));
        td(tr, "").appendChild(el("span", h.used ? "tag used" : "tag", h.used ? "[" + h.cited_as + "]" : "未用"));
        rows.appendChild(tr);
      });
    });
  });

  // ---------------------------------------------------------------- feedback review
  function loadFeedback() {
    var st = $("fb-status").value;
    shown(api("GET", "/feedback" + (st ? "?status=" + st : ""))).then(function (items) {
      var list = $("fb-list");
      list.textContent = "";
      if (!items.length) list.appendChild(el("li", "hint", "没有反馈"));
      items.forEach(function (f) {
        var li = el("li");
        li.dataset.id = String(f.id);
        li.appendChild(el("div", "q", (f.rating > 0 ? "【有帮助】" : "【有问题】") + f.question));
        li.appendChild(el("div", "hint", when(f.at) + " · " + f.actor + " · 索引 " + f.index_version
          + (f.conversation.length ? " · 对话中第 " + (f.conversation.length / 2 + 1) + " 问" : "")));
        li.appendChild(el("div", "a", (f.refused ? "（拒答）" : "") + f.answer));
        if (f.comment) li.appendChild(el("div", "c", "意见：" + f.comment));
        var corrected = el("input", "corrected");
        corrected.value = f.corrected;
        corrected.placeholder = "正确答案（可改）";
        corrected.maxLength = 2000;
        var boxes = f.citations.map(function (c) {
          var lab = el("label", "c");
          var cb = el("input");
          cb.type = "checkbox";
          cb.value = c.doc_id;
          cb.checked = f.confirmed_doc_ids.indexOf(c.doc_id) >= 0;
          lab.appendChild(cb);
          lab.appendChild(document.createTextNode(" [" + c.n + "] 《" + c.title + "》 确实回答了问题"));
          li.appendChild(lab);
          return cb;
        });
        var actions = el("div", "actions");
        actions.appendChild(corrected);
        var ok = el("button", "primary", "确认");
        var no = el("button", "danger", "驳回");
        ok.type = no.type = "button";
        function review(status) {
          var ids = boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
          shown(api("POST", "/feedback/" + f.id + "/review", { status: status, confirmed_doc_ids: ids,
            corrected: corrected.value.trim() })).then(loadFeedback);
        }
        ok.addEventListener("click", function () { review("confirmed"); });
        no.addEventListener("click", function () { review("rejected"); });
        actions.appendChild(ok);
        actions.appendChild(no);
        actions.appendChild(el("span", "tag", { new: "待审核", confirmed: "已确认", rejected: "已驳回" }[f.status]
          + (f.reviewer ? " · " + f.reviewer : "")));
        li.appendChild(actions);
        list.appendChild(li);
      });
    });
  }
  $("fb-status").addEventListener("change", loadFeedback);

  // ---------------------------------------------------------------- keys and audit
  function loadKeys() {
    shown(api("GET", "/admin/keys")).then(function (keys) {
      var body = $("key-rows");
      body.textContent = "";
      keys.forEach(function (k) {
        var tr = el("tr", k.revoked ? "off" : "");
        td(tr, String(k.id));
        td(tr, k.role);
        td(tr, k.name);
        td(tr, k.prefix + "…");
        td(tr, when(k.created));
        td(tr, k.revoked ? "已吊销 " + when(k.revoked) : "有效");
        var c = td(tr, "");
        if (!k.revoked) {
          var b = el("button", "danger", "吊销");
          b.type = "button";
          b.addEventListener("click", function () {
            if (confirm("吊销密钥 " + k.id + "（" + k.name + "）？使用它的页面将立即失效。")) {
              shown(api("DELETE", "/admin/keys/" + k.id)).then(loadKeys);
            }
          });
          c.appendChild(b);
        }
        body.appendChild(tr);
      });
    });
  }
  $("key-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var f = ev.target.elements;
    shown(api("POST", "/admin/keys", { name: f.name.value.trim(), role: f.role.value })).then(function (k) {
      var n = $("new-key");
      n.hidden = false;
      n.textContent = "";
      n.appendChild(el("div", null, "新密钥（只显示这一次，请立即保存）："));
      n.appendChild(el("code", null, k.key));
      if (k.embed_snippet) {
        n.appendChild(el("div", null, "嵌入内网页面的代码（只含只读密钥）："));
        n.appendChild(el("code", null, k.embed_snippet));
      }
      ev.target.reset();
      loadKeys();
    });
  });

  function loadAudit() {
    shown(api("GET", "/admin/audit?limit=200")).then(function (rows) {
      var body = $("audit-rows");
      body.textContent = "";
      rows.forEach(function (e) {
        var tr = el("tr");
        td(tr, when(e.at));
        td(tr, e.actor);
        td(tr, e.role);
        td(tr, e.action);
        td(tr, e.target);
        td(tr, JSON.stringify(e.detail));
        body.appendChild(tr);
      });
    });
  }

  if (key) login(key).catch(function () { sessionStorage.removeItem(KEY); });
})();
