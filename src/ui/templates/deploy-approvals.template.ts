import { type SafeHtml, html } from '../../common/html';
import type { DeployApprovalAuditEventDto, DeployApprovalResponseDto } from '../../deploy-approvals/dto/deploy-approval-response.dto';
import { formFields, layout } from './layout.template';

export interface DeployApprovalListView {
  readonly requests: readonly DeployApprovalResponseDto[];
}

export interface DeployApprovalDetailView {
  readonly request: DeployApprovalResponseDto;
  readonly auditEvents: readonly DeployApprovalAuditEventDto[];
  /** The forms are shown to approvers who are neither the requester nor the token's owner. */
  readonly mayDecide: boolean;
  readonly csrfToken: string;
}

/** The queue: what waits for a decision first, then what was decided lately. */
export function deployApprovalListPage({ requests }: DeployApprovalListView): string {
  return layout(
    { title: 'Deploy approvals' },
    html`<h1>Deploy approvals</h1>
      ${
        requests.length === 0
          ? html`<p>No deploy approval requests.</p>`
          : html`<table>
              <thead>
                <tr>
                  <th>App</th>
                  <th>Commit</th>
                  <th>Branch</th>
                  <th>Requested by</th>
                  <th>Status</th>
                  <th>Asked</th>
                </tr>
              </thead>
              <tbody>
                ${requests.map(
                  (request) =>
                    html`<tr>
                      <td><a href="/ui/deploy-approvals/${request.id}">${request.app}</a></td>
                      <td><code>${request.gitCommit.slice(0, 12)}</code></td>
                      <td>${request.gitBranch ?? ''}</td>
                      <td>${request.requestedBy}</td>
                      <td>${request.status}</td>
                      <td>${request.createdAt}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }`,
  );
}

/** One request: what is asked, who decided what, how far the deploy went, its audit trail, and the decision forms. */
export function deployApprovalDetailPage({ request, auditEvents, mayDecide, csrfToken }: DeployApprovalDetailView): string {
  const action = `/ui/deploy-approvals/${request.id}/decision`;
  const returnTo = `/ui/deploy-approvals/${request.id}`;
  const open = request.status === 'pending' || request.status === 'approved';
  return layout(
    { title: `Deploy of ${request.app}` },
    html`<h1>Deploy ${request.app} at <code>${request.gitCommit.slice(0, 12)}</code></h1>
      <dl>
        <dt>Status</dt>
        <dd id="status">${request.status}${request.progress && request.progress !== request.status ? ` (${request.progress})` : ''}</dd>
        <dt>Commit</dt>
        <dd><code>${request.gitCommit}</code>${request.gitBranch ? html` on <code>${request.gitBranch}</code>` : null}</dd>
        ${
          request.message
            ? html`<dt>Message</dt>
                <dd>${request.message}</dd>`
            : null
        }
        <dt>Requested by</dt>
        <dd>${request.requestedBy}, for a token of ${request.tokenOwner}</dd>
        ${
          request.ciMetadata
            ? html`<dt>CI</dt>
                <dd><code>${JSON.stringify(request.ciMetadata)}</code></dd>`
            : null
        }
        <dt>Approvals</dt>
        <dd>${request.decisions.filter((decision) => decision.decision === 'approve').length} of ${request.approvalsRequired}</dd>
        ${
          request.approvalExpiresAt
            ? html`<dt>Approval window ends</dt>
                <dd>${request.approvalExpiresAt}</dd>`
            : null
        }
        ${
          request.buildId
            ? html`<dt>Build</dt>
                <dd><code>${request.buildId}</code></dd>`
            : null
        }
        ${
          request.releaseId
            ? html`<dt>Release</dt>
                <dd><code>${request.releaseId}</code></dd>`
            : null
        }
      </dl>
      ${
        request.decisions.length > 0
          ? html`<h2>Decisions</h2>
              <ul>
                ${request.decisions.map(
                  (decision) =>
                    html`<li>
                      ${decision.by}: ${decision.decision}${decision.note ? html` — ${decision.note}` : null} (${decision.decidedAt})
                    </li>`,
                )}
              </ul>`
          : null
      }
      ${mayDecide && open ? decisionForm(action, returnTo, csrfToken, request.status === 'approved') : null}
      <h2>Audit trail</h2>
      ${
        auditEvents.length === 0
          ? html`<p>Nothing recorded under this request yet.</p>`
          : html`<ol>
              ${auditEvents.map(
                (event) =>
                  html`<li>
                    <code>${event.kind}</code> ${event.method ?? ''} <code>${event.path ?? ''}</code> ${event.status ?? ''} by
                    ${event.actor ?? 'anonymous'} at ${event.occurredAt}${event.reason ? html` — ${event.reason}` : null}
                  </li>`,
              )}
            </ol>`
      }
      <p><a href="/ui/deploy-approvals">All requests</a></p>`,
  );
}

/** A decision needs a second factor with it: the code rides in the form, as X-MFA-TOTP does for the API. */
function decisionForm(action: string, returnTo: string, csrfToken: string, approved: boolean): SafeHtml {
  return html`<section>
    <h2>Decide</h2>
    <form method="post" action="${action}">
      ${formFields(csrfToken, returnTo)}
      <label for="note">Note (optional)</label>
      <input id="note" name="note" maxlength="2000" />
      <label for="mfa-code">Code from your authenticator app, or a backup code</label>
      <input id="mfa-code" name="mfa_code" autocomplete="one-time-code" spellcheck="false" maxlength="20" required />
      ${
        approved
          ? html`<button type="submit" name="decision" value="extend">Extend the window</button>`
          : html`<button type="submit" name="decision" value="approve">Approve</button>`
      }
      <button type="submit" name="decision" value="reject">Reject</button>
    </form>
  </section>`;
}
