// Northwind Card Services — progressive enhancements. Every page works without this
// file; the server checks every rule again. Loaded with defer, from our own origin
// only (the CSP allows no inline script).
"use strict";

(function () {
  // After a failed submission, move focus to the error summary so keyboard and
  // screen-reader users land on the list of problems.
  var summary = document.querySelector(".error-summary");
  if (summary) {
    summary.focus();
  }

  // "I am an additional card member" reveals the basic card member's date of
  // birth. Without script the field is simply always shown.
  var additional = document.getElementById("additional");
  var basic = document.getElementById("basic-birth");
  if (additional && basic) {
    var basicInput = basic.querySelector("input");
    var sync = function () {
      basic.hidden = !additional.checked;
      additional.setAttribute("aria-expanded", additional.checked ? "true" : "false");
      if (basicInput) {
        basicInput.required = additional.checked;
      }
    };
    additional.addEventListener("change", sync);
    sync();
  }

  // The live password checklist. The rules and their limits come from data
  // attributes the server rendered from its password policy, and each check
  // mirrors identity.PasswordPolicy.Check: lengths in code points after NFC,
  // Unicode letter categories, and the passphrase length that waives the
  // composition rules.
  var list = document.getElementById("pw-rules");
  var password = document.getElementById("password");
  if (list && password) {
    var userID = document.getElementById("user_id");
    var min = parseInt(list.dataset.min, 10) || 0;
    var passphrase = parseInt(list.dataset.passphrase, 10) || 0;
    var metText = list.dataset.met || "";
    var unmetText = list.dataset.unmet || "";
    var upper = /\p{Lu}/u;
    var lower = /\p{Ll}/u;
    var digitSymbol = /[\p{Nd}\p{P}\p{S}\s]/u;
    var symbol = /^[\p{P}\p{S}\s]/u;

    var check = function (rule, pw, chars, uid) {
      var composition = passphrase === 0 || chars.length < passphrase;
      switch (rule) {
        case "length": return chars.length >= min;
        case "upper": return !composition || upper.test(pw);
        case "lower": return !composition || lower.test(pw);
        case "digitsymbol": return !composition || digitSymbol.test(pw);
        case "firstchar": return pw === "" ? false : !symbol.test(pw);
        case "userid": return pw !== "" && (uid === "" || pw.toLowerCase().indexOf(uid.toLowerCase()) < 0);
        default: return true;
      }
    };

    var update = function () {
      var pw = password.value.normalize("NFC");
      var chars = Array.from(pw);
      var uid = userID ? userID.value : "";
      var items = list.querySelectorAll("li[data-rule]");
      for (var i = 0; i < items.length; i++) {
        var li = items[i];
        var met = check(li.dataset.rule, pw, chars, uid);
        var state = met ? "met" : "unmet";
        // Only touch the DOM when a rule changes state, so the live region
        // announces changes rather than every keystroke.
        if (li.dataset.state === state) {
          continue;
        }
        li.dataset.state = state;
        li.classList.toggle("met", met);
        li.classList.toggle("unmet", !met);
        var label = li.querySelector(".rule-state");
        if (label) {
          label.textContent = met ? metText : unmetText;
        }
      }
    };
    password.addEventListener("input", update);
    if (userID) {
      userID.addEventListener("input", update);
    }
    update();
  }

  // Times are rendered in UTC by the server, which does not know the member's
  // time zone; the browser does, so show them in local time in the page's language.
  if (window.Intl && Intl.DateTimeFormat) {
    var lang = document.documentElement.lang || undefined;
    var fmt;
    try {
      fmt = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
    } catch (e) {
      fmt = null;
    }
    if (fmt) {
      var times = document.querySelectorAll("time[data-local][datetime]");
      for (var j = 0; j < times.length; j++) {
        var d = new Date(times[j].getAttribute("datetime"));
        if (!isNaN(d.getTime())) {
          times[j].textContent = fmt.format(d);
        }
      }
    }
  }

  // Live screens (web/live.go): the server streams an opaque version of the
  // account; when it changes, fetch this page again and swap in the parts marked
  // data-live. Without EventSource the page is simply static until reloaded.
  var live = document.querySelector("[data-live-src]");
  if (live && window.EventSource && window.fetch && window.DOMParser) {
    var seen = null;
    var busy = false;
    var again = false;
    var status = document.createElement("p");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    live.parentNode.insertBefore(status, live);
    var refresh = function () {
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      fetch(window.location.href, { credentials: "same-origin", headers: { "X-Live-Refresh": "1" } })
        .then(function (resp) {
          return resp.ok && !resp.redirected ? resp.text() : null;
        })
        .then(function (html) {
          if (!html) {
            return;
          }
          var doc = new DOMParser().parseFromString(html, "text/html");
          var changed = false;
          document.querySelectorAll("[data-live]").forEach(function (el) {
            var fresh = el.id ? doc.getElementById(el.id) : null;
            if (fresh && fresh.innerHTML !== el.innerHTML) {
              el.innerHTML = fresh.innerHTML;
              changed = true;
            }
          });
          if (changed) {
            status.textContent = live.dataset.liveMsg || "";
            live.dataset.liveRefreshed = String((parseInt(live.dataset.liveRefreshed, 10) || 0) + 1);
          }
        })
        .catch(function () {})
        .then(function () {
          busy = false;
          if (again) {
            again = false;
            refresh();
          }
        });
    };
    var stream = new EventSource(live.dataset.liveSrc);
    stream.addEventListener("ledger", function (e) {
      // The first version is the one this page was rendered with (give or take the
      // moment between the two); later ones mean something changed.
      if (seen !== null && e.data !== seen) {
        refresh();
      }
      seen = e.data;
      live.dataset.liveState = "open";
    });
    stream.addEventListener("end", function () {
      stream.close();
      live.dataset.liveState = "ended";
    });
  }
})();
