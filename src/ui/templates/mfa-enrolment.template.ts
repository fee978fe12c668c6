import { type SafeHtml, html } from '../../common/html';
import type { StartedTotpEnrolment } from '../../mfa/mfa-enrolment.service';
import { formFields, layout } from './layout.template';

export interface EnrolmentView {
  readonly email: string;
  readonly returnTo: string;
  readonly csrfToken: string;
  /** The pending authenticator whose QR code the page shows. */
  readonly totp: StartedTotpEnrolment;
  /** Whether the person already has a second factor (then this adds another). */
  readonly enrolled: boolean;
  /** Whether they may go on without enrolling (already enrolled, or MFA not required). */
  readonly mayLeave: boolean;
  /** Why the last code was refused. */
  readonly error?: string;
}

/**
 * Enrolment: an authenticator app (QR code, its key for typing in, a code to confirm) or a security
 * key (the script). A key's first registration brings backup codes in the API's answer; the script
 * shows them in the section kept hidden for them.
 */
export function enrolmentPage(view: EnrolmentView): string {
  const { email, returnTo, csrfToken, totp, enrolled, mayLeave, error } = view;
  return layout(
    { title: 'Set up a second factor', csrfToken, script: true },
    html`<h1>${enrolled ? 'Add a second factor' : 'Set up a second factor'}</h1>
      <p>For <strong>${email}</strong>: the gateway asks for it after Google sign-in and before sensitive operations.</p>
      <section id="authenticator-app">
        <h2>Authenticator app</h2>
        <p>Scan this QR code with your authenticator app, or enter the key by hand.</p>
        <img class="qr-code" src="${totp.qrCode}" alt="QR code for your authenticator app" width="240" height="240" />
        <p>Key: <code id="totp-secret">${totp.secret}</code></p>
        <p><a id="otpauth-uri" href="${totp.otpauthUri}">Open in an authenticator app on this device</a></p>
        ${error ? html`<p class="error" role="alert">${error}</p>` : null}
        <form method="post" action="/ui/mfa/enroll/totp">
          ${formFields(csrfToken, returnTo)}
          <input type="hidden" name="id" value="${totp.id}" />
          <label for="totp-code">Code shown by the app</label>
          <input id="totp-code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required />
          <button type="submit">Confirm</button>
        </form>
      </section>
      <section id="security-key">
        <h2>Security key</h2>
        <p>Or use a security key or passkey.</p>
        <button type="button" id="register-security-key">Register a security key</button>
        <p id="security-key-status" class="error" role="status"></p>
      </section>
      <section id="security-key-registered" hidden>
        <h2>Security key registered</h2>
        <div id="security-key-backup-codes" hidden>
          ${backupCodesNotice()}
          <ol class="backup-codes"></ol>
        </div>
        <p><a class="button" href="${returnTo}">Continue</a></p>
      </section>
      ${mayLeave ? html`<p id="not-now"><a href="${returnTo}">Not now</a></p>` : null}`,
  );
}

/** After an authenticator is confirmed: the backup codes of a first enrolment, shown this once. */
export function enrolledPage({ backupCodes, returnTo }: { backupCodes: readonly string[] | null; returnTo: string }): string {
  return layout(
    { title: backupCodes ? 'Your backup codes' : 'Authenticator added' },
    html`<h1>${backupCodes ? 'Save your backup codes' : 'Authenticator added'}</h1>
      ${
        backupCodes
          ? html`${backupCodesNotice()}
              <ol class="backup-codes">
                ${backupCodes.map((code) => html`<li><code>${code}</code></li>`)}
              </ol>`
          : html`<p>Your new authenticator app works from now on.</p>`
      }
      <p><a class="button" href="${returnTo}">Continue</a></p>`,
  );
}

function backupCodesNotice(): SafeHtml {
  return html`<p>
    Each of these codes stands in for your second factor once, should you lose it. They are shown only this once: keep them somewhere safe.
  </p>`;
}
