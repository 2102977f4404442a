// The review pages as a keyboard work tool (the legend on the page lists the keys).
//
// Viewer: the query photo and the selected candidate's photo side by side, zoomed and panned
// together (wheel, +/-/0, drag, Shift+arrows), the animal's box framed on each photo that has
// one, and the candidate's matched keypoints drawn over both (p). Decisions: 1-9 or j/k select
// a candidate; each decision button carries its key in data-key; l skips to the next
// encounter; z undoes the reviewer's last decision through the API
// (POST /api/v1/changes/ID/undo) and reopens that encounter.
// Everything runs from this file: the pages' Content-Security-Policy allows nothing inline.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var MAX_SCALE = 16;
  var STEP = 1.25;
  var PAN = 60;

  var form = document.getElementById("decision");
  var items = Array.prototype.slice.call(document.querySelectorAll("li.candidate"));
  var panes = document.getElementById("panes");
  var queryView = document.getElementById("query-view");
  var candidateView = document.getElementById("candidate-view");
  var candidateLabel = document.getElementById("candidate-label");
  var overlay = document.getElementById("overlay");
  var pointsButton = document.getElementById("points");
  var pointsNote = document.getElementById("points-note");
  var zoomLevel = document.getElementById("zoom-level");
  var undoButton = document.getElementById("undo");
  var undoError = document.getElementById("undo-error");
  var skip = document.getElementById("skip");

  var view = { scale: 1, x: 0, y: 0 };
  var selected = 0;
  var pairs = null;
  var showPoints = false;
  var leaving = false;  // a decision, skip or undo is on its way: one per page

  function imageUrl(id) {
    return "/api/v1/images/" + id;
  }

  // Candidates ----------------------------------------------------------------------------

  function radioOf(item) {
    return item.querySelector("input[type=radio]");
  }

  function initialSelection() {
    for (var i = 0; i < items.length; i += 1) {
      var radio = radioOf(items[i]);
      if (radio ? radio.checked : items[i].classList.contains("chosen")) {
        return i;
      }
    }
    return 0;
  }

  function select(index) {
    if (!items.length) {
      return;
    }
    selected = Math.max(0, Math.min(items.length - 1, index));
    var item = items[selected];
    var radio = radioOf(item);
    if (radio) {
      radio.checked = true;
    }
    items.forEach(function (other) {
      other.classList.toggle("selected", other === item);
      if (radioOf(other)) {
        other.classList.toggle("chosen", other === item);
      }
    });
    // candidates are listed only on the review page, which always has the panes
    var evidence = item.querySelector("label");
    queryView.src = imageUrl(evidence.dataset.query);
    queryView.dataset.box = evidence.dataset.queryBox || "";
    candidateView.dataset.box = evidence.dataset.imageBox || "";
    if (evidence.dataset.image) {
      candidateView.src = imageUrl(evidence.dataset.image);
      candidateView.hidden = false;
    } else {
      candidateView.removeAttribute("src");
      candidateView.hidden = true;
    }
    candidateLabel.textContent = "Candidate " + (selected + 1) + ": " + item.dataset.code +
      (evidence.dataset.image ? "" : " (no photo)");
    pairs = evidence.dataset.pairs ? JSON.parse(evidence.dataset.pairs) : null;
    pointsButton.disabled = !pairs;
    pointsNote.textContent = pairs ? pairs.length + " matched" : "none for this candidate";
    draw();
  }

  // Synchronised zoom and pan ---------------------------------------------------------------

  function paneSize() {
    var pane = panes.querySelector(".pane");
    return { width: pane.clientWidth, height: pane.clientHeight };
  }

  function apply() {
    var size = paneSize();
    // keep the zoomed photos covering their panes: no panning past an edge
    view.x = Math.min(0, Math.max(size.width * (1 - view.scale), view.x));
    view.y = Math.min(0, Math.max(size.height * (1 - view.scale), view.y));
    var transform = "translate(" + view.x + "px, " + view.y + "px) scale(" + view.scale + ")";
    panes.querySelectorAll(".stage").forEach(function (stage) {
      stage.style.transform = transform;
    });
    zoomLevel.textContent = Math.round(view.scale * 100) + "%";
    draw();
  }

  function zoom(factor, atX, atY) {
    var size = paneSize();
    var x = atX === undefined ? size.width / 2 : atX;
    var y = atY === undefined ? size.height / 2 : atY;
    var scale = Math.max(1, Math.min(MAX_SCALE, view.scale * factor));
    var ratio = scale / view.scale;
    view.x = x - (x - view.x) * ratio;
    view.y = y - (y - view.y) * ratio;
    view.scale = scale;
    apply();
  }

  function reset() {
    view = { scale: 1, x: 0, y: 0 };
    apply();
  }

  function pan(dx, dy) {
    view.x += dx;
    view.y += dy;
    apply();
  }

  function watchPointer() {
    var drag = null;
    panes.addEventListener("wheel", function (event) {
      var pane = event.target.closest(".pane");
      if (!pane) {
        return;
      }
      event.preventDefault();
      var box = pane.getBoundingClientRect();
      zoom(event.deltaY < 0 ? STEP : 1 / STEP, event.clientX - box.left, event.clientY - box.top);
    }, { passive: false });
    panes.addEventListener("pointerdown", function (event) {
      if (!event.target.closest(".pane") || event.button !== 0) {
        return;
      }
      drag = { x: event.clientX, y: event.clientY };
      panes.setPointerCapture(event.pointerId);
      panes.classList.add("dragging");
    });
    panes.addEventListener("pointermove", function (event) {
      if (drag) {
        pan(event.clientX - drag.x, event.clientY - drag.y);
        drag = { x: event.clientX, y: event.clientY };
      }
    });
    function stop() {
      drag = null;
      panes.classList.remove("dragging");
    }
    panes.addEventListener("pointerup", stop);
    panes.addEventListener("pointercancel", stop);
    document.querySelectorAll("[data-zoom]").forEach(function (button) {
      button.addEventListener("click", function () {
        var how = button.dataset.zoom;
        if (how === "reset") {
          reset();
        } else {
          zoom(how === "in" ? STEP : 1 / STEP);
        }
      });
    });
  }

  // Matched keypoints -----------------------------------------------------------------------

  function onScreen(image, x, y) {
    var box = image.getBoundingClientRect();
    return [box.left + x * box.width / image.naturalWidth,
            box.top + y * box.height / image.naturalHeight];
  }

  function inside(point, box) {
    return point[0] >= box.left && point[0] <= box.right &&
      point[1] >= box.top && point[1] <= box.bottom;
  }

  function shape(name, attributes) {
    var element = document.createElementNS(SVG, name);
    Object.keys(attributes).forEach(function (key) {
      element.setAttribute(key, attributes[key]);
    });
    overlay.appendChild(element);
  }

  function loaded(image) {
    return !image.hidden && image.complete && image.naturalWidth;
  }

  // The animal's box (data-box "x,y,w,h" in the photo's pixels), clipped to its pane.
  function frame(image, pane, origin) {
    var cells = (image.dataset.box || "").split(",").map(Number);
    if (cells.length !== 4 || cells.some(isNaN) || !loaded(image)) {
      return false;
    }
    var start = onScreen(image, cells[0], cells[1]);
    var end = onScreen(image, cells[0] + cells[2], cells[1] + cells[3]);
    var left = Math.max(start[0], pane.left), top = Math.max(start[1], pane.top);
    var right = Math.min(end[0], pane.right), bottom = Math.min(end[1], pane.bottom);
    if (right <= left || bottom <= top) {
      return false;
    }
    shape("rect", { x: left - origin.left, y: top - origin.top, width: right - left,
      height: bottom - top, fill: "none", stroke: "#ffd200", "stroke-width": 2,
      "stroke-dasharray": "6 3", "class": "animal-box" });
    return true;
  }

  function draw() {
    overlay.replaceChildren();
    var origin = panes.getBoundingClientRect();
    var boxes = Array.prototype.map.call(panes.querySelectorAll(".pane"), function (pane) {
      return pane.getBoundingClientRect();
    });
    var framed = frame(queryView, boxes[0], origin);
    framed = frame(candidateView, boxes[1], origin) || framed;
    var ready = pairs && showPoints && loaded(queryView) && loaded(candidateView);
    overlay.toggleAttribute("hidden", !ready && !framed);  // an SVG has no .hidden property
    pointsButton.setAttribute("aria-pressed", String(showPoints && Boolean(pairs)));
    if (!ready) {
      return;
    }
    pairs.forEach(function (pair, index) {
      var colour = "hsl(" + Math.round(index * 137.5) % 360 + ", 95%, 55%)";
      var ends = [onScreen(queryView, pair[0], pair[1]), onScreen(candidateView, pair[2], pair[3])];
      var seen = [inside(ends[0], boxes[0]), inside(ends[1], boxes[1])];
      var local = ends.map(function (end) {
        return [end[0] - origin.left, end[1] - origin.top];
      });
      if (seen[0] && seen[1]) {
        shape("line", { x1: local[0][0], y1: local[0][1], x2: local[1][0], y2: local[1][1],
          stroke: colour, "stroke-width": 1.2, "stroke-opacity": 0.8 });
      }
      local.forEach(function (end, side) {
        if (seen[side]) {
          shape("circle", { cx: end[0], cy: end[1], r: 4, fill: colour, stroke: "#000",
            "stroke-width": 1 });
        }
      });
    });
  }

  function togglePoints() {
    if (pairs) {
      showPoints = !showPoints;
      draw();
    }
  }

  // Undo --------------------------------------------------------------------------------------

  function undo() {
    if (!undoButton || undoButton.disabled) {
      return;
    }
    var csrf = document.querySelector("input[name=csrf_token]");
    undoButton.disabled = true;
    leaving = true;
    fetch("/api/v1/changes/" + undoButton.dataset.change + "/undo", {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf ? csrf.value : "" }
    }).then(function (answer) {
      if (answer.ok) {
        window.location.assign("/review/" + undoButton.dataset.encounter);
        return null;
      }
      return answer.json().then(function (body) {
        throw new Error(body.error ? body.error.message : answer.statusText);
      });
    }).catch(function (error) {
      leaving = false;
      undoError.textContent = "Undo refused: " + error.message;
      undoError.hidden = false;
    });
  }

  // Keys --------------------------------------------------------------------------------------

  function typing(target) {
    return target && (target.tagName === "INPUT" && target.type !== "radio" ||
      target.tagName === "TEXTAREA" || target.tagName === "SELECT");
  }

  var arrows = { ArrowLeft: [PAN, 0], ArrowRight: [-PAN, 0], ArrowUp: [0, PAN], ArrowDown: [0, -PAN] };

  function viewerKey(event) {
    if (!panes) {
      return false;
    }
    if (event.shiftKey && arrows[event.key]) {
      pan(arrows[event.key][0], arrows[event.key][1]);
    } else if (event.key === "+" || event.key === "=") {
      zoom(STEP);
    } else if (event.key === "-") {
      zoom(1 / STEP);
    } else if (event.key === "0") {
      reset();
    } else if (event.key === "p") {
      togglePoints();
    } else {
      return false;
    }
    return true;
  }

  function reviewKey(event) {
    var key = event.key;
    var button = form && form.querySelector('button[data-key="' + key.toLowerCase() + '"]');
    if (/^[1-9]$/.test(key) && Number(key) <= items.length) {
      select(Number(key) - 1);
    } else if (key === "j" || key === "k") {
      select(selected + (key === "j" ? 1 : -1));
    } else if (leaving) {
      return false;
    } else if (key === "l" && skip) {
      leaving = true;
      window.location.assign(skip.href);
    } else if (key === "z" && undoButton) {
      undo();
    } else if (button) {
      form.requestSubmit(button);
    } else {
      return false;
    }
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && typing(event.target)) {
      event.target.blur();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) {
      return;
    }
    // a held key repeats zooming and panning, never a decision
    if (viewerKey(event) || !event.repeat && reviewKey(event)) {
      event.preventDefault();
    }
  });

  if (undoButton) {
    undoButton.addEventListener("click", undo);
  }
  if (form) {
    form.addEventListener("submit", function (event) {
      if (leaving) {
        event.preventDefault();
      }
      leaving = true;
    });
    form.addEventListener("change", function (event) {
      var index = items.indexOf(event.target.closest("li.candidate"));
      if (index >= 0) {
        select(index);
      }
    });
  }
  items.forEach(function (item, index) {
    item.addEventListener("click", function (event) {
      if (!event.target.closest("a, input, summary, details")) {
        select(index);
      }
    });
  });
  if (panes) {
    pointsButton.addEventListener("click", togglePoints);
    queryView.addEventListener("load", draw);
    candidateView.addEventListener("load", draw);
    window.addEventListener("resize", apply);
    watchPointer();
    apply();
  }
  select(initialSelection());
})();
