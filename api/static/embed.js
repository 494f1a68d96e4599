// One-line embedding: <script src="https://zhrag.intranet/chat/embed.js" async></script>
// adds a button in the corner that opens the chat page in an iframe. Options on the tag:
// data-key (API key, if chat requires one), data-title (button tooltip).
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || document.getElementById("zhrag-launcher")) return;
  var origin = new URL(script.src, location.href);
  var url = new URL(origin.pathname.replace(/embed\.js$/, ""), origin);
  url.pathname = url.pathname.replace(/\/$/, "");
  if (script.dataset.key) url.searchParams.set("key", script.dataset.key);
  var btn = document.createElement("button");
  btn.id = "zhrag-launcher";
  btn.type = "button";
  btn.textContent = "问";
  btn.title = script.dataset.title || "资料问答";
  btn.setAttribute("style", "position:fixed;right:20px;bottom:20px;z-index:2147483000;width:52px;height:52px;" +
    "border-radius:50%;border:0;background:#b71c1c;color:#fff;font-size:22px;cursor:pointer;box-shadow:0 4px 12px rgba(0,0,0,.25)");
  var frame = null;
  btn.addEventListener("click", function () {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.id = "zhrag-frame";
      frame.src = url.toString();
      frame.title = btn.title;
      frame.setAttribute("style", "position:fixed;right:20px;bottom:84px;z-index:2147483000;width:min(420px,calc(100vw - 40px));" +
        "height:min(620px,calc(100vh - 110px));border:1px solid #ddd;border-radius:12px;background:#fff;box-shadow:0 8px 24px rgba(0,0,0,.2)");
      document.body.appendChild(frame);
    } else {
      frame.hidden = !frame.hidden;
    }
  });
  document.body.appendChild(btn);
})();
