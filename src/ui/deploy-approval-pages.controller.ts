import { Body, Controller, Get, Header, HttpStatus, Param, ParseUUIDPipe, Post, Redirect, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { CsrfToken } from '../auth/decorators/csrf-token.decorator';
import { CurrentPrincipal } from '../auth/decorators/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { DeployApprovalParties } from '../deploy-approvals/deploy-approval-parties.resolver';
import { DeployApprovals } from '../deploy-approvals/deploy-approvals.service';
import { Authorize } from '../rbac/decorators/authorize.decorator';
import { OwnedByCaller } from '../rbac/subject-resolver';
import { DecideOnPageDto } from './dto/decide-on-page.dto';
import { deployApprovalDetailPage, deployApprovalListPage } from './templates/deploy-approvals.template';
import { UiPageFilter } from './ui-page.filter';

const HTML = 'text/html; charset=utf-8';

/**
 * The deploy approval pages, where webhook notices link: the queue, one request with its audit trail,
 * and the decision form. The decision passes the same pipeline as `POST /api/v1/deploy-approval-requests/{id}/approve`,
 * its second factor in the form's `mfa_code`.
 */
@ApiExcludeController()
@UseFilters(UiPageFilter)
@Controller('ui/deploy-approvals')
export class DeployApprovalPagesController {
  constructor(private readonly approvals: DeployApprovals) {}

  @Get()
  @Authorize('read', 'deploy-approvals', OwnedByCaller)
  @Header('content-type', HTML)
  async showQueue(@CurrentPrincipal() principal: Principal): Promise<string> {
    const page = await this.approvals.listFor(principal, { limit: 100 });
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
    return deployApprovalDetailPage({
      request: await this.approvals.describe(request),
      auditEvents: await this.approvals.auditEvents(id),
      mayDecide: this.approvals.mayDecide(principal, request),
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
