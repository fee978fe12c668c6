// Security keys on the MFA pages (/ui/mfa/*). WebAuthn is only reachable from script, and the pages'
// CSP admits no inline script, so this file is the pages' one script. It calls the gateway's API
// (/api/v1/mfa/...) with the session's CSRF token from the page; the codes forms need none of it.
'use strict';

(() => {
  const csrfToken = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '';

  /** The API speaks WebAuthn's JSON form: binary fields as base64url. */
  function fromBase64Url(text) {
    const base64 = text.replace(/-/g, '+').replace(/_/g, '/');
    const binary = atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, '='));
    return Uint8Array.from(binary, (character) => character.charCodeAt(0));
  }

  function toBase64Url(buffer) {
    let binary = '';
    for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  async function callApi(path, body) {
    const response = await fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'x-csrf-token': csrfToken, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(answer.detail || `the gateway answered ${response.status}`);
    return answer;
  }

  const withIds = (credentials) => (credentials ?? []).map((credential) => ({ ...credential, id: fromBase64Url(credential.id) }));

  /** A PublicKeyCredential as the JSON the gateway verifies (what PublicKeyCredential.toJSON gives, where it exists). */
  function credentialJson(credential) {
    const response = {};
    for (const field of ['clientDataJSON', 'attestationObject', 'authenticatorData', 'signature', 'userHandle']) {
      if (credential.response[field]) response[field] = toBase64Url(credential.response[field]);
    }
    if (typeof credential.response.getTransports === 'function') response.transports = credential.response.getTransports();
    return {
      id: credential.id,
      rawId: toBase64Url(credential.rawId),
      type: credential.type,
      response,
      clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment ?? undefined,
    };
  }

  async function registerSecurityKey() {
    const { challenge_id, options } = await callApi('/api/v1/mfa/webauthn/registration-options');
    const credential = await navigator.credentials.create({
      publicKey: {
        ...options,
        challenge: fromBase64Url(options.challenge),
        user: { ...options.user, id: fromBase64Url(options.user.id) },
        excludeCredentials: withIds(options.excludeCredentials),
      },
    });
    return callApi('/api/v1/mfa/webauthn/registrations', { challenge_id, response: credentialJson(credential), label: 'Security key' });
  }

  async function verifySecurityKey() {
    const { challenge_id, options } = await callApi('/api/v1/mfa/webauthn/assertion-options');
    const credential = await navigator.credentials.get({
      publicKey: { ...options, challenge: fromBase64Url(options.challenge), allowCredentials: withIds(options.allowCredentials) },
    });
    await callApi('/api/v1/mfa/verify', { challenge_id, response: credentialJson(credential) });
  }

  /** Runs a button's ceremony, saying in the status line why it failed. */
  function onClick(button, ceremony) {
    const status = document.getElementById('security-key-status');
    if (!window.PublicKeyCredential) {
      button.disabled = true;
      status.textContent = 'This browser cannot use security keys.';
      return;
    }
    button.addEventListener('click', async () => {
      button.disabled = true;
      status.textContent = '';
      try {
        await ceremony();
      } catch (error) {
        status.textContent = `The security key did not work: ${error.message}`;
      } finally {
        button.disabled = false;
      }
    });
  }

  const useKey = document.getElementById('use-security-key');
  if (useKey) {
    onClick(useKey, async () => {
      await verifySecurityKey();
      // Checked by the server (safeReturnTo) before it was put in the page.
      window.location.assign(useKey.dataset.returnTo);
    });
  }

  const registerKey = document.getElementById('register-security-key');
  if (registerKey) {
    onClick(registerKey, async () => {
      const { backup_codes: backupCodes } = await registerSecurityKey();
      if (backupCodes) {
        const list = document.querySelector('#security-key-backup-codes ol');
        for (const code of backupCodes) {
          const item = document.createElement('li');
          item.appendChild(document.createElement('code')).textContent = code;
          list.appendChild(item);
        }
        document.getElementById('security-key-backup-codes').hidden = false;
      }
      for (const id of ['authenticator-app', 'security-key', 'not-now']) {
        const section = document.getElementById(id);
        if (section) section.hidden = true;
      }
      document.getElementById('security-key-registered').hidden = false;
    });
  }
})();
