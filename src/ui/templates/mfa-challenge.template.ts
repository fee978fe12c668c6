import { html } from '../../common/html';
import { formFields, layout } from './layout.template';

export interface ChallengeView {
  readonly email: string;
  readonly returnTo: string;
  readonly csrfToken: string;
  readonly totp: boolean;
  readonly securityKey: boolean;
  /** Why the last attempt was refused. */
  readonly error?: string;
}

/** The second factor after Google sign-in (or for a step-up): whichever of the person's methods they hold. */
export function challengePage(view: ChallengeView): string {
  const { email, returnTo, csrfToken, totp, securityKey, error } = view;
  return layout(
    { title: 'Second factor', csrfToken, script: securityKey },
    html`<h1>Confirm it is you</h1>
      <p>Signed in as <strong>${email}</strong>. Finish with your second factor.</p>
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
      ${
        securityKey
          ? html`<section>
              <h2>Security key</h2>
              <button type="button" id="use-security-key" data-return-to="${returnTo}">Use security key</button>
              <p id="security-key-status" class="error" role="status"></p>
            </section>`
          : null
      }
      ${
        totp
          ? html`<section>
              <h2>Authenticator app</h2>
              <form method="post" action="/ui/mfa/challenge">
                ${formFields(csrfToken, returnTo)}
                <label for="totp-code">Code from your authenticator app</label>
                <input
                  id="totp-code"
                  name="code"
                  inputmode="numeric"
                  autocomplete="one-time-code"
                  pattern="[0-9]{6}"
                  maxlength="6"
                  required
                  autofocus
                />
                <button type="submit">Verify</button>
              </form>
            </section>`
          : null
      }
      <section>
        <h2>Backup code</h2>
        <form method="post" action="/ui/mfa/challenge">
          ${formFields(csrfToken, returnTo)}
          <label for="backup-code">One of your backup codes (each works once)</label>
          <input id="backup-code" name="code" autocomplete="off" spellcheck="false" maxlength="20" required />
          <button type="submit">Use backup code</button>
        </form>
      </section>`,
  );
}

/** The challenge for someone with nothing to answer it with. */
export function nothingEnrolledPage(returnTo: string): string {
  return layout(
    { title: 'Second factor' },
    html`<h1>No second factor yet</h1>
      <p>You have not set up a second factor.</p>
      <p><a href="/ui/mfa/enroll?return_to=${encodeURIComponent(returnTo)}">Set one up</a></p>`,
  );
}
