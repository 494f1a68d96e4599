// zhrag chat page: streams answers from /v1/chat/completions and shows cited passages.
// No framework and no CDN: it must work on an intranet with no internet access.
(function () {
  "use strict";
  var params = new URLSearchParams(location.search);
  var apiKey = params.get("key");
  var base = location.pathname.replace(/\/chat\/?$/, "");
  var log = document.getElementById("log");
  var form = document.getElementById("ask");
  var input = document.getElementById("q");
  var sendBtn = document.getElementById("send");
  var history = [];
  var intro = log.firstElementChild.cloneNode(true);

  // A new topic: follow-ups must not be resolved against the old conversation.
  document.getElementById("reset").addEventListener("click", function () {
    if (sendBtn.disabled) return;
    history = [];
    log.textContent = "";
    log.appendChild(intro.cloneNode(true));
    input.focus();
  });

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  function scroll() { log.scrollTop = log.scrollHeight; }

  // Answer text with [n] turned into buttons; built from text nodes, never innerHTML.
  function renderAnswer(node, text, citations) {
    node.textContent = "";
    var parts = text.split(/(\[\d+\])/);
    parts.forEach(function (p) {
      var m = /^\[(\d+)\]$/.exec(p);
      if (m && citations) {
        var n = Number(m[1]);
        var c = citations.find(function (x) { return x.n === n; });
        if (c) {
          var b = el("button", "cite", "[" + n + "]");
          b.type = "button";
          b.setAttribute("aria-expanded", "false");
          b.dataset.n = String(n);
          b.title = "《" + c.title + "》";
          b.addEventListener("click", function () { toggleSource(node, c, b); });
          node.appendChild(b);
          return;
        }
      }
      node.appendChild(document.createTextNode(p));
    });
  }

  function toggleSource(msgNode, c, button) {
    var box = msgNode.querySelector(".sources") || msgNode.appendChild(el("div", "sources"));
    var existing = box.querySelector('[data-n="' + c.n + '"]');
    if (existing) {
      existing.remove();
      button.setAttribute("aria-expanded", "false");
      return;
    }
    var s = el("section", "source");
    s.dataset.n = String(c.n);
    s.appendChild(el("h2", null, "[" + c.n + "] 《" + c.title + "》"));
    var meta = [];
    if (c.meta && c.meta.column) meta.push("栏目：" + c.meta.column);
    if (c.meta && c.meta.source) meta.push("来源：" + c.meta.source);
    if (c.meta && c.meta.reporters) meta.push("记者：" + c.meta.reporters.join("、"));
    if (c.meta && c.meta.date) meta.push("日期：" + c.meta.date);
    meta.push("第" + c.char_start + "–" + c.char_end + "字");
    s.appendChild(el("div", "meta", meta.join(" · ")));
    var body = el("p", "passage");
    // Highlight the quoted sentences inside the passage.
    var text = c.text, pos = 0;
    var quotes = (c.quotes || []).map(function (q) {
      return { s: q.char_start - c.char_start, e: q.char_end - c.char_start };
    }).filter(function (q) { return q.s >= 0 && q.e <= text.length && q.e > q.s; })
      .sort(function (a, b) { return a.s - b.s; });
    quotes.forEach(function (q) {
      if (q.s < pos) return;
      body.appendChild(document.createTextNode(text.slice(pos, q.s)));
      body.appendChild(el("mark", null, text.slice(q.s, q.e)));
      pos = q.e;
    });
    body.appendChild(document.createTextNode(text.slice(pos)));
    s.appendChild(body);
    box.appendChild(s);
    button.setAttribute("aria-expanded", "true");
    scroll();
  }

  function errorText(status, body) {
    try {
      var j = JSON.parse(body);
      if (Array.isArray(j.detail)) return j.detail.map(function (d) { return d.msg; }).join("；");
      if (j.detail) return String(j.detail);
    } catch (e) { /* not JSON */ }
    return "服务出错（" + status + "）";
  }

  async function ask(question) {
    log.appendChild(el("li", "msg user", question));
    var bot = el("li", "msg bot pending", "");
    log.appendChild(bot);
    scroll();
    var headers = { "Content-Type": "application/json", "Accept": "text/event-stream" };
    if (apiKey) headers["Authorization"] = "Bearer " + apiKey;
    var messages = history.concat([{ role: "user", content: question }]);
    var text = "", final = null;
    try {
      var resp = await fetch(base + "/v1/chat/completions", {
        method: "POST", headers: headers, body: JSON.stringify({ model: "zhrag", messages: messages, stream: true })
      });
      if (!resp.ok) throw new Error(errorText(resp.status, await resp.text()));
      var reader = resp.body.getReader(), decoder = new TextDecoder(), buf = "";
      for (;;) {
        var r = await reader.read();
        if (r.done) break;
        buf += decoder.decode(r.value, { stream: true });
        var lines = buf.split(/\r?\n/);
        buf = lines.pop();
        lines.forEach(function (line) {
          if (line.indexOf("data:") !== 0) return;
          var data = line.slice(5).trim();
          if (!data || data === "[DONE]") return;
          var chunk = JSON.parse(data);
          var ch = chunk.choices && chunk.choices[0];
          if (ch && ch.delta && ch.delta.content) {
            text += ch.delta.content;
            bot.textContent = text;
            scroll();
          }
          if (ch && ch.finish_reason) final = chunk;
        });
      }
      bot.classList.remove("pending");
      if (final && final.refused) bot.classList.add("refused");
      renderAnswer(bot, text, final ? final.citations : []);
      if (final && final.retrieval_query) bot.dataset.query = final.retrieval_query;
      bot.dataset.done = "1";
      history = messages.concat([{ role: "assistant", content: text }]).slice(-12);
    } catch (err) {
      bot.classList.remove("pending");
      bot.classList.add("error");
      bot.textContent = (err && err.message) || "无法连接服务";
      bot.dataset.done = "1";
    }
    scroll();
  }

  form.addEventListener("submit", async function (ev) {
    ev.preventDefault();
    var q = input.value.trim();
    if (!q || sendBtn.disabled) return;
    input.value = "";
    sendBtn.disabled = true;
    try { await ask(q); } finally { sendBtn.disabled = false; input.focus(); }
  });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      form.requestSubmit();
    }
  });
  input.focus();
})();
