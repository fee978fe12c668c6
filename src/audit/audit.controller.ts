import { Controller, Get, Query, StreamableFile } from '@nestjs/common';
import { ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal } from '../auth/decorators/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { Authorize } from '../rbac/decorators/authorize.decorator';
import { EveryonesInstances } from '../rbac/subject-resolver';
import { AuditEventsScope, EVERY_ACTOR } from './audit-events-scope.resolver';
import { csvRows, jsonLines } from './audit-export';
import { AuditLog } from './audit-log.service';
import { AuditVerifier } from './audit-verifier.service';
import { AuditEventPageResponseDto, AuditEventResponseDto } from './dto/audit-event-response.dto';
import { AuditVerificationResponseDto } from './dto/audit-verification-response.dto';
import { ExportAuditEventsQueryDto } from './dto/export-audit-events-query.dto';
import { ListAuditEventsQueryDto } from './dto/list-audit-events-query.dto';

const DEFAULT_PAGE_SIZE = 100;

/** Reading the trail; every call here is itself recorded, like any other. */
@ApiTags('audit')
@Controller('api/v1/audit')
export class AuditController {
  constructor(
    private readonly log: AuditLog,
    private readonly verifier: AuditVerifier,
  ) {}

  /** Everyone reads their own events; `actor` names another's, `*` everyone's (admins). */
  @Get('events')
  @Authorize('read', 'audit', AuditEventsScope)
  @ApiOkResponse({ type: AuditEventPageResponseDto })
  async listEvents(@CurrentPrincipal() principal: Principal, @Query() query: ListAuditEventsQueryDto): Promise<AuditEventPageResponseDto> {
    const actor = query.actor ?? principal.user.email;
    const { events, nextCursor } = await this.log.page({
      actorEmail: actor === EVERY_ACTOR ? undefined : actor,
      kind: query.kind,
      app: query.app,
      action: query.action,
      subject: query.subject,
      status: query.status,
      decision: query.decision,
      since: query.since === undefined ? undefined : new Date(query.since),
      until: query.until === undefined ? undefined : new Date(query.until),
      search: query.q,
      before: query.before,
      limit: query.limit ?? DEFAULT_PAGE_SIZE,
    });
    return { events: events.map((event) => AuditEventResponseDto.from(event)), nextCursor };
  }

  /** The chain, or a range of it, as a file that verifies on its own (`npm run audit:verify -- --file`). */
  @Get('export')
  @Authorize('read', 'audit', EveryonesInstances)
  @ApiProduces('application/x-ndjson', 'text/csv')
  @ApiOkResponse({ description: 'One event a line (JSON) or a row (CSV), oldest first, chain links included' })
  exportEvents(@Query() query: ExportAuditEventsQueryDto): StreamableFile {
    const csv = query.format === 'csv';
    const events = this.log.stream({ from: query.from, to: query.to });
    return new StreamableFile(csv ? csvRows(events) : jsonLines(events), {
      type: csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson',
      disposition: `attachment; filename="audit-events.${csv ? 'csv' : 'jsonl'}"`,
    });
  }

  /** Recomputes the whole chain: it reads everyone's events. */
  @Get('verify')
  @Authorize('read', 'audit', EveryonesInstances)
  @ApiOkResponse({ type: AuditVerificationResponseDto })
  verify(): Promise<AuditVerificationResponseDto> {
    return this.verifier.verify();
  }
}
