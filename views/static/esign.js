// Signing with the CryptoPro CAdES browser plug-in on the e-signature page, when the citizen has it.
// Progressive enhancement: without the plug-in nothing changes (the file upload and the paste field
// work without JavaScript). The plug-in's page API, CryptoPro's cadesplugin_api.js, is loaded from
// the page's data-api address (a deployment puts CryptoPro's file at /static/vendor/cadesplugin_api.js),
// with this script's CSP nonce. Signature: CAdES-BES, detached, over the challenge's bytes, the
// certificate chain included; it goes into the paste field and the form is submitted as usual.
(function () {
  'use strict';
  var root = document.getElementById('cades');
  // No data-api: the deployment has no plug-in API script (VKHOD_ESIGN_CADES_API), so nothing to load.
  if (!root || !root.dataset.api) return;
  var nonce = (document.currentScript && document.currentScript.nonce) || '';
  var select = document.getElementById('cades-certificate');
  var button = document.getElementById('cades-sign');
  var status = document.getElementById('cades-status');
  var certificates = [];

  function show(text) {
    status.textContent = text;
    status.hidden = false;
  }

  function base64(text) {
    var bytes = new TextEncoder().encode(text);
    var binary = '';
    for (var i = 0; i < bytes.length; i += 1) binary += String.fromCharCode(bytes[i]);
    return btoa(binary);
  }

  function date(value) {
    var d = new Date(value);
    return isNaN(d.getTime()) ? '' : d.toLocaleDateString(document.documentElement.lang || 'ru');
  }

  async function list(plugin) {
    var store = await plugin.CreateObjectAsync('CAdESCOM.Store');
    await store.Open(2 /* CAPICOM_CURRENT_USER_STORE */, 'My', 2 /* CAPICOM_STORE_OPEN_MAXIMUM_ALLOWED */);
    try {
      var all = await store.Certificates;
      var count = await all.Count;
      for (var i = 1; i <= count; i += 1) {
        var cert = await all.Item(i);
        if (!(await cert.HasPrivateKey())) continue;
        var validTo = await cert.ValidToDate;
        if (new Date(validTo) < new Date()) continue;
        var subject = String(await cert.SubjectName);
        var cn = /(?:^|,\s*)CN=([^,]+)/.exec(subject);
        var option = document.createElement('option');
        option.value = String(certificates.length);
        option.textContent = (cn ? cn[1] : subject) + (date(validTo) ? ' — ' + root.dataset.validTo + ' ' + date(validTo) : '');
        select.appendChild(option);
        certificates.push(cert);
      }
    } finally {
      await store.Close();
    }
  }

  async function sign(plugin) {
    var cert = certificates[Number(select.value)];
    if (!cert) return;
    button.disabled = true;
    status.hidden = true;
    try {
      var signer = await plugin.CreateObjectAsync('CAdESCOM.CPSigner');
      await signer.propset_Certificate(cert);
      await signer.propset_Options(1 /* CAPICOM_CERTIFICATE_INCLUDE_WHOLE_CHAIN */);
      var data = await plugin.CreateObjectAsync('CAdESCOM.CadesSignedData');
      await data.propset_ContentEncoding(1 /* CADESCOM_BASE64_TO_BINARY */);
      await data.propset_Content(base64(root.dataset.challenge));
      var signature = await data.SignCades(signer, 1 /* CADESCOM_CADES_BES */, true /* detached */);
      var field = document.getElementById('signature');
      field.value = String(signature);
      field.form.submit();
    } catch (err) {
      show(root.dataset.failed + (err && err.message ? ' (' + err.message + ')' : ''));
      button.disabled = false;
    }
  }

  async function start() {
    var plugin = window.cadesplugin;
    if (!plugin || typeof plugin.then !== 'function') return;
    try {
      await plugin; // resolves once the plug-in answered; rejects when it is not installed
      await list(plugin);
    } catch (err) {
      return;
    }
    root.hidden = false;
    if (!certificates.length) {
      select.hidden = true;
      button.hidden = true;
      show(root.dataset.noCertificates);
      return;
    }
    button.addEventListener('click', function (event) {
      event.preventDefault();
      sign(plugin);
    });
  }

  if (window.cadesplugin) {
    start();
    return;
  }
  var script = document.createElement('script');
  script.src = root.dataset.api;
  script.nonce = nonce;
  script.onload = start;
  document.head.appendChild(script);
})();
