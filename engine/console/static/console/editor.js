// The YAML editor of /admin/workflows/{name}/edit (engine/console/editor.py): line numbers in a
// gutter beside the textarea, and a check of the text as the admin types (debounced), whose
// problems are listed ("第 L 行 第 C 列：...") and marked in the gutter; clicking one moves the
// cursor there. No library: the textarea stays a plain form field that the publish form posts.
(function () {
  "use strict";
  var DELAY = 400;
  var source = document.getElementById("source");
  if (!source) {
    return;
  }
  var gutter = document.getElementById("gutter");
  var list = document.getElementById("problems");
  var status = document.getElementById("check-status");
  var bad = {}; // line -> messages
  var shownLines = -1;
  var timer = null;
  var asked = 0;

  function lines() {
    return source.value.split("\n");
  }

  function drawGutter() {
    var count = lines().length;
    var frag = document.createDocumentFragment();
    for (var i = 1; i <= count; i++) {
      var mark = document.createElement("div");
      mark.textContent = String(i);
      mark.className = bad[i] ? "ln bad" : "ln";
      mark.setAttribute("data-line", String(i));
      if (bad[i]) {
        mark.title = bad[i].join("\n");
      }
      frag.appendChild(mark);
    }
    gutter.textContent = "";
    gutter.appendChild(frag);
    shownLines = count;
    gutter.scrollTop = source.scrollTop;
  }

  function problemItem(error) {
    var item = document.createElement("li");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "problem";
    button.setAttribute("data-line", String(error.line));
    button.setAttribute("data-column", String(error.column));
    button.textContent = "第 " + error.line + " 行 第 " + error.column + " 列：" + error.message;
    item.appendChild(button);
    return item;
  }

  function show(errors) {
    bad = {};
    list.textContent = "";
    errors.forEach(function (error) {
      (bad[error.line] = bad[error.line] || []).push(error.message);
      list.appendChild(problemItem(error));
    });
    status.textContent = errors.length ? "发现 " + errors.length + " 个问题" : "没有发现问题";
    status.className = errors.length ? "alert" : "notice";
    drawGutter();
  }

  function check() {
    var mine = ++asked;
    fetch(source.getAttribute("data-check-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "text/plain; charset=utf-8",
        "X-CSRF-Token": document.body.getAttribute("data-csrf") || "",
      },
      body: source.value,
    })
      .then(function (answer) {
        if (!answer.ok) {
          throw new Error(String(answer.status));
        }
        return answer.json();
      })
      .then(function (result) {
        if (mine === asked) {
          show(result.errors || []);
        }
      })
      .catch(function () {
        if (mine === asked) {
          status.textContent = "暂时无法检查（网络中断或登录已过期），请刷新页面";
          status.className = "alert";
        }
      });
  }

  function goTo(line, column) {
    var all = lines();
    var row = Math.min(Math.max(line, 1), all.length);
    var offset = 0;
    for (var i = 0; i < row - 1; i++) {
      offset += all[i].length + 1;
    }
    offset += Math.min(Math.max(column - 1, 0), all[row - 1].length);
    source.focus();
    source.setSelectionRange(offset, offset);
    var height = parseFloat(window.getComputedStyle(source).lineHeight) || 20;
    source.scrollTop = Math.max(0, (row - 1) * height - source.clientHeight / 3);
    gutter.scrollTop = source.scrollTop;
  }

  source.addEventListener("input", function () {
    if (lines().length !== shownLines) {
      drawGutter();
    }
    status.textContent = "正在检查…";
    status.className = "hint";
    window.clearTimeout(timer);
    timer = window.setTimeout(check, DELAY);
  });
  source.addEventListener("scroll", function () {
    gutter.scrollTop = source.scrollTop;
  });
  source.addEventListener("keydown", function (event) {
    if (event.key === "Tab" && !event.shiftKey && !event.altKey && !event.ctrlKey) {
      event.preventDefault(); // YAML indents with spaces
      source.setRangeText("  ", source.selectionStart, source.selectionEnd, "end");
      source.dispatchEvent(new Event("input"));
    }
  });
  list.addEventListener("click", function (event) {
    var button = event.target.closest("button.problem");
    if (button) {
      goTo(Number(button.getAttribute("data-line")), Number(button.getAttribute("data-column")));
    }
  });
  gutter.addEventListener("click", function (event) {
    var mark = event.target.closest(".ln.bad");
    if (mark) {
      goTo(Number(mark.getAttribute("data-line")), 1);
    }
  });

  drawGutter();
  check();
})();
