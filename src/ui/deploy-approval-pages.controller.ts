import { Body, Controller, Get, Header, HttpStatus, Param, ParseUUIDPipe, Post, Redirect, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { CsrfToken } from '../auth/decorators/csrf-token.decorator';
import { CurrentPrincipal } from '../auth/decorators/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { DeployApprovalParties } from '../deploy-approvals/deploy-approval-parties.resolver';
import { DeployApprovals } from '../deploy-approvals/deploy-approvals.service';
import { AbilityFactory } from '../rbac/ability.factory';
import { Authorize } from '../rbac/decorators/authorize.decorator';
import { OwnedByCaller } from '../rbac/subject-resolver';
import { DecideOnPageDto } from './dto/decide-on-page.dto';
import { deployApprovalDetailPage, deployApprovalListPage } from './templates/deploy-approvals.template';
import { UiPageFilter } from './ui-page.filter';

const HTML = 'text/html; charset=utf-8';
/** Someone who is never the caller: a grant that passes for them is a grant on everyone's requests. */
const SOMEONE_ELSE = '00000000-0000-0000-0000-000000000000';

/**
 * The deploy approval pages, where webhook notices link: the queue, one request with its audit trail,
 * and the decision form. The decision passes the same pipeline as `POST /api/v1/deploy-approval-requests/{id}/approve`,
 * its second factor in the form's `mfa_code`.
 */
@ApiExcludeController()
@UseFilters(UiPageFilter)
@Controller('ui/deploy-approvals')
export class DeployApprovalPagesController {
  constructor(
    private readonly approvals: DeployApprovals,
    private readonly abilities: AbilityFactory,
  ) {}

  @Get()
  @Authorize('read', 'deploy-approvals', OwnedByCaller)
  @Header('content-type', HTML)
  async showQueue(@CurrentPrincipal() principal: Principal): Promise<string> {
    const readsAll = this.abilities.forPrincipal(principal).can('read', 'deploy-approvals', { userId: SOMEONE_ELSE });
    const page = await this.approvals.list({ limit: 100 }, readsAll ? undefined : principal.user.id);
    const waiting = page.items.filter((request) => request.status === 'pending');
    return deployApprovalListPage({ requests: [...waiting, ...page.items.filter((request) => request.status !== 'pending')] });
  }

  @Get(':id')
  @Authorize('read', 'deploy-approvals', DeployApprovalParties)
  @Header('content-type', HTML)
  async showRequest(
    @CurrentPrincipal() principal: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @CsrfToken() csrfToken: string,
  ): Promise<string> {
    const request = await this.approvals.get(id);
    const mayDecide =
      this.abilities.forPrincipal(principal).can('approve', 'deploy-approvals') &&
      principal.user.id !== request.requestedByUserId &&
      principal.user.id !== request.targetTokenOwnerId;
    return deployApprovalDetailPage({
      request: await this.approvals.describe(request),
      auditEvents: await this.approvals.auditEvents(id),
      mayDecide,
      csrfToken,
    });
  }

  @Post(':id/decision')
  @Authorize('approve', 'deploy-approvals')
  @Redirect()
  async decide(
    @CurrentPrincipal() principal: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() form: DecideOnPageDto,
  ): Promise<{ url: string; statusCode: number }> {
    if (form.decision === 'extend') await this.approvals.extend(id, principal);
    else await this.approvals.decide(id, principal, form.decision, form.note || undefined);
    return { url: `/ui/deploy-approvals/${id}`, statusCode: HttpStatus.SEE_OTHER };
  }
}
