import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query, Req } from '@nestjs/common';
import { ApiConflictResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { CurrentPrincipal } from '../auth/decorators/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { Authorize } from '../rbac/decorators/authorize.decorator';
import { OwnedByCaller } from '../rbac/subject-resolver';
import { DeployApprovalParties } from './deploy-approval-parties.resolver';
import { DeployApprovals } from './deploy-approvals.service';
import { CreateDeployApprovalRequestDto } from './dto/create-deploy-approval-request.dto';
import { DecideDeployApprovalDto } from './dto/decide-deploy-approval.dto';
import { DeployApprovalDetailDto, DeployApprovalPageDto, DeployApprovalResponseDto } from './dto/deploy-approval-response.dto';
import { ListDeployApprovalsQuery, WaitForDecisionQuery } from './dto/list-deploy-approvals.query';

@ApiTags('deploy-approvals')
@Controller('api/v1/deploy-approval-requests')
export class DeployApprovalsController {
  constructor(private readonly approvals: DeployApprovals) {}

  @Post()
  @Authorize('create', 'deploy-approvals', OwnedByCaller)
  @ApiOperation({ summary: 'Ask to deploy one commit of one app with a CI token (the calling token by default)' })
  @ApiConflictResponse({ description: 'An open request for this token, app and commit exists; the answer carries it as `existing`' })
  create(@CurrentPrincipal() principal: Principal, @Body() body: CreateDeployApprovalRequestDto): Promise<DeployApprovalResponseDto> {
    return this.approvals.request(principal, body);
  }

  @Get()
  @Authorize('read', 'deploy-approvals', OwnedByCaller)
  @ApiOperation({ summary: 'Requests, newest first: everyone’s for approvers, otherwise those you asked for or whose token is yours' })
  @ApiOkResponse({ type: DeployApprovalPageDto })
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListDeployApprovalsQuery): Promise<DeployApprovalPageDto> {
    return this.approvals.listFor(principal, query);
  }

  @Get(':id')
  @Authorize('read', 'deploy-approvals', DeployApprovalParties)
  @ApiOkResponse({ type: DeployApprovalDetailDto })
  async detail(@Param('id', ParseUUIDPipe) id: string): Promise<DeployApprovalDetailDto> {
    const request = await this.approvals.describe(await this.approvals.get(id));
    return { ...request, auditEvents: await this.approvals.auditEvents(id) };
  }

  @Get(':id/wait')
  @Authorize('read', 'deploy-approvals', DeployApprovalParties)
  @ApiOperation({ summary: 'Long-poll: answers once the request is decided, or after `timeout` seconds with it still pending' })
  @ApiOkResponse({ type: DeployApprovalResponseDto })
  waitForDecision(
    @Param('id', ParseUUIDPipe) id: string,
    @Query() query: WaitForDecisionQuery,
    @Req() request: FastifyRequest,
  ): Promise<DeployApprovalResponseDto> {
    return this.approvals.waitForDecision(id, (query.timeout ?? 30) * 1000, () => request.raw.destroyed);
  }

  @Post(':id/approve')
  @HttpCode(200)
  @Authorize('approve', 'deploy-approvals')
  @ApiOperation({ summary: 'Approve (a second factor with this request; never your own request or token)' })
  approve(
    @CurrentPrincipal() principal: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: DecideDeployApprovalDto,
  ): Promise<DeployApprovalResponseDto> {
    return this.approvals.decide(id, principal, 'approve', body.note);
  }

  @Post(':id/reject')
  @HttpCode(200)
  @Authorize('approve', 'deploy-approvals')
  @ApiOperation({ summary: 'Reject a pending or approved request (a second factor with this request)' })
  reject(
    @CurrentPrincipal() principal: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: DecideDeployApprovalDto,
  ): Promise<DeployApprovalResponseDto> {
    return this.approvals.decide(id, principal, 'reject', body.note);
  }

  @Post(':id/extend')
  @HttpCode(200)
  @Authorize('approve', 'deploy-approvals')
  @ApiOperation({ summary: 'Give an approved deploy a fresh window from now (a second factor with this request)' })
  extend(@CurrentPrincipal() principal: Principal, @Param('id', ParseUUIDPipe) id: string): Promise<DeployApprovalResponseDto> {
    return this.approvals.extend(id, principal);
  }
}
