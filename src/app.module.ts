import { DynamicModule, Module, RequestMethod, ValidationPipe } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { AuditInterceptor } from './audit/audit.interceptor';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { AuthenticationGuard } from './auth/guards/authentication.guard';
import { CsrfGuard } from './auth/guards/csrf.guard';
import { ClientAddressModule } from './common/client-address';
import { ClockModule } from './common/clock';
import { GatewayExceptionFilter } from './common/errors/gateway-exception.filter';
import { RequestRefusalsModule } from './common/errors/request-refusals';
import { GatewayConfigModule } from './config/config.module';
import type { GatewayConfig } from './config/gateway-config';
import { DatabaseModule } from './database/database.module';
import { DeployApprovalGuard } from './deploy-approvals/guards/deploy-approval.guard';
import { DeployApprovalsModule } from './deploy-approvals/deploy-approvals.module';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { MfaGuard } from './mfa/guards/mfa.guard';
import { MfaModule } from './mfa/mfa.module';
import { NotificationsModule } from './notifications/notifications.module';
import { RackRequestRewriteGuard } from './proxy/guards/rack-request-rewrite.guard';
import { RackRequestGuard } from './proxy/guards/rack-request.guard';
import { ProxyModule } from './proxy/proxy.module';
import { PolicyGuard } from './rbac/guards/policy.guard';
import { RbacModule } from './rbac/rbac.module';
import { CallerRateLimitGuard } from './rate-limit/guards/caller-rate-limit.guard';
import { ClientRateLimitGuard } from './rate-limit/guards/client-rate-limit.guard';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { ReadOnlyGuard } from './read-only/guards/read-only.guard';
import { ReadOnlyModule } from './read-only/read-only.module';
import { SecretsModule } from './secrets/secrets.module';
import { TokensModule } from './tokens/tokens.module';
import { UiModule } from './ui/ui.module';
import { UsersModule } from './users/users.module';

/**
 * Headers that carry credentials or secrets (a one-off process's env, an SSH key, an exec command);
 * never written to a log line. The request log itself is made from audit records, which hold none.
 */
const REDACTED_LOG_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'req.headers["x-mfa-totp"]',
  'req.headers["x-mfa-webauthn"]',
  'req.headers.environment',
  'req.headers["release-env"]',
  'req.headers["private-key"]',
  'req.headers.command',
  'res.headers["set-cookie"]',
];

@Module({})
export class AppModule {
  static forRoot(config: GatewayConfig, logDestination?: DestinationStream): DynamicModule {
    return {
      module: AppModule,
      imports: [
        GatewayConfigModule.forRoot(config),
        ClockModule,
        ClientAddressModule,
        RequestRefusalsModule,
        LoggerModule.forRoot({
          pinoHttp: [
            {
              level: config.logLevel,
              redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' },
              // The request log is written by the audit recorder, one line per event that ends a request.
              autoLogging: false,
              quietReqLogger: true,
            },
            logDestination,
          ].filter(Boolean) as never,
          // Request-scoped loggers for the gateway's API only: rack paths are the hot path.
          forRoutes: [{ path: 'api/{*path}', method: RequestMethod.ALL }],
        }),
        DatabaseModule.forRoot(),
        NotificationsModule,
        UsersModule,
        TokensModule,
        AuthModule,
        RbacModule,
        MfaModule,
        UiModule,
        HealthModule,
        MetricsModule,
        SecretsModule,
        RateLimitModule,
        ReadOnlyModule,
        AuditModule,
        DeployApprovalsModule,
        // Last: its catch-all route must not shadow the gateway's own routes.
        ProxyModule,
      ],
      providers: [
        // The request pipeline, in the order a request meets it.
        // 0. Rate limits per client address, before anything costs work; refused credentials are counted in 2.
        { provide: APP_GUARD, useExisting: ClientRateLimitGuard },
        // 1. Proxied requests: target and framing read exactly as the rack will; anything ambiguous is a 400.
        { provide: APP_GUARD, useExisting: RackRequestGuard },
        // 2. Who is calling: a gateway token, or (gateway API only) a browser session.
        { provide: APP_GUARD, useExisting: AuthenticationGuard },
        // 3. Cookie-authenticated state changes must carry the session's CSRF token (X-CSRF-Token, or a page form's _csrf).
        { provide: APP_GUARD, useExisting: CsrfGuard },
        // 4. CASL policy: the rack route table for proxied requests, @Authorize on admin routes.
        { provide: APP_GUARD, useExisting: PolicyGuard },
        // 5. Read-only mode (READ_ONLY): changes to the rack are refused with 503; reads and the admin API go on.
        { provide: APP_GUARD, useExisting: ReadOnlyGuard },
        // 6. Rate limits per caller and rate class of the route the policy matched.
        { provide: APP_GUARD, useExisting: CallerRateLimitGuard },
        // 7. Deploy approvals: a CI token's upload, build, promote, run or exec goes on only as the next step of an approved deploy.
        { provide: APP_GUARD, useExisting: DeployApprovalGuard },
        // 8. MFA: enrolment first, a finished sign-in, then the route's level (step-up window or a code with the request).
        { provide: APP_GUARD, useExisting: MfaGuard },
        // 9. Rewrites: a body the rack must receive changed (a release's env) is read now, so the audit intent can say what changes.
        { provide: APP_GUARD, useExisting: RackRequestRewriteGuard },
        // 10. Audit: a change to the rack goes on only once its intent is committed; API calls are recorded.
        { provide: APP_INTERCEPTOR, useExisting: AuditInterceptor },
        // Request bodies and params: validated DTOs only, unknown fields refused.
        { provide: APP_PIPE, useValue: new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }) },
        // Errors: the rack's shape on proxied paths, problem+json on the gateway API, an HTML page on /ui/.
        { provide: APP_FILTER, useClass: GatewayExceptionFilter },
      ],
    };
  }
}
