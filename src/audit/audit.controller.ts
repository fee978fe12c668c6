import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Authorize } from '../rbac/decorators/authorize.decorator';
import { AuditVerificationResponseDto } from './dto/audit-verification-response.dto';
import { AuditVerifier } from './audit-verifier.service';

@ApiTags('audit')
@Controller('api/v1/audit')
export class AuditController {
  constructor(private readonly verifier: AuditVerifier) {}

  /** Recomputes the whole chain; the call itself is recorded like any other. */
  @Get('verify')
  @Authorize('read', 'audit')
  @ApiOkResponse({ type: AuditVerificationResponseDto })
  verify(): Promise<AuditVerificationResponseDto> {
    return this.verifier.verify();
  }
}
