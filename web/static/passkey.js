// Northwind Card Services — passkey ceremonies (WebAuthn). The server renders the
// options (the JSON form of WebAuthn Level 3) into a data attribute; this asks the
// browser's authenticator, puts the credential's JSON into the form's hidden field
// and submits it. The server verifies everything; nothing here is trusted.
"use strict";

(function () {
  var supported = window.PublicKeyCredential &&
    typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function" &&
    typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function";

  // ceremony runs one create or get when button is pressed and submits form with
  // the answer in field.
  var ceremony = function (mode, optionsJSON, button, form, field, errorBox, unsupportedBox) {
    if (!button || !form || !field) {
      return;
    }
    if (!supported) {
      if (unsupportedBox) {
        unsupportedBox.hidden = false;
      }
      button.disabled = true;
      return;
    }
    button.addEventListener("click", function () {
      var options;
      try {
        options = JSON.parse(optionsJSON).publicKey;
      } catch (e) {
        if (errorBox) {
          errorBox.hidden = false;
        }
        return;
      }
      button.disabled = true;
      if (errorBox) {
        errorBox.hidden = true;
      }
      var pending = mode === "create"
        ? navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) })
        : navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
      pending.then(function (credential) {
        field.value = JSON.stringify(credential.toJSON());
        form.submit();
      }).catch(function () {
        // Cancelled, timed out or refused: the member may try again.
        button.disabled = false;
        if (errorBox) {
          errorBox.hidden = false;
        }
      });
    });
  };

  // The enrolment and passwordless sign-in page.
  var page = document.getElementById("passkey-ceremony");
  if (page) {
    ceremony(page.dataset.mode, page.dataset.options || "",
      document.getElementById("passkey-start"), document.getElementById("passkey-form"),
      document.getElementById("passkey-credential"), document.getElementById("passkey-error"),
      document.getElementById("passkey-unsupported"));
  }

  // A passkey as the second factor on the step-up page.
  var stepUp = document.getElementById("stepup-passkey");
  if (stepUp) {
    ceremony("get", stepUp.dataset.options || "",
      document.getElementById("stepup-passkey-start"), document.getElementById("stepup-passkey-form"),
      document.getElementById("passkey_code"), document.getElementById("stepup-passkey-error"),
      document.getElementById("stepup-passkey-unsupported"));
  }
})();
