// Keyboard shortcuts of the review page: 1-5 choose a candidate, s same, n new, u not sure.
(function () {
  "use strict";
  var form = document.getElementById("decision");
  if (!form) {
    return;
  }
  function highlight() {
    form.querySelectorAll(".candidate").forEach(function (item) {
      var radio = item.querySelector("input[type=radio]");
      item.classList.toggle("chosen", Boolean(radio && radio.checked));
    });
  }
  form.addEventListener("change", highlight);
  highlight();
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey ||
        (target && (target.tagName === "INPUT" && target.type !== "radio" ||
                    target.tagName === "TEXTAREA"))) {
      return;
    }
    var radio = form.querySelector('input[type=radio][data-key="' + event.key + '"]');
    if (radio) {
      radio.checked = true;
      highlight();
      event.preventDefault();
      return;
    }
    var button = form.querySelector('button[data-key="' + event.key.toLowerCase() + '"]');
    if (button) {
      event.preventDefault();
      form.requestSubmit(button);
    }
  });
})();
