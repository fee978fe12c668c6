import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Deploy approvals: a CI token's request to deploy one commit of one app, the people's decisions on
 * it, and how far the approved deploy has gone. The database itself holds the deploy to its order
 * (upload, then a build of that upload, then that build's release, then one promote of it), each step
 * taken once: the trigger refuses any other change, whatever the application sends.
 */
export class CreateDeployApprovals1764440000000 implements MigrationInterface {
  name = 'CreateDeployApprovals1764440000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE deploy_approval_requests (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        app varchar(63) NOT NULL,
        git_commit varchar(40) NOT NULL,
        git_branch varchar(255),
        message varchar(2000),
        ci_metadata jsonb,
        requested_by_user_id uuid NOT NULL,
        requested_by_token_id uuid,
        target_token_id uuid NOT NULL,
        target_token_owner_id uuid NOT NULL,
        approvals_required smallint NOT NULL,
        status varchar(16) NOT NULL DEFAULT 'pending',
        progress varchar(16),
        pending_expires_at timestamptz NOT NULL,
        approved_at timestamptz,
        approval_expires_at timestamptz,
        decided_at timestamptz,
        object_key varchar(1024),
        build_id varchar(64),
        release_id varchar(64),
        deployed_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT deploy_approval_requests_requested_by_user_id_fkey FOREIGN KEY (requested_by_user_id) REFERENCES users(id) ON DELETE CASCADE,
        CONSTRAINT deploy_approval_requests_requested_by_token_id_fkey FOREIGN KEY (requested_by_token_id) REFERENCES api_tokens(id) ON DELETE CASCADE,
        CONSTRAINT deploy_approval_requests_target_token_id_fkey FOREIGN KEY (target_token_id) REFERENCES api_tokens(id) ON DELETE CASCADE,
        CONSTRAINT deploy_approval_requests_target_token_owner_id_fkey FOREIGN KEY (target_token_owner_id) REFERENCES users(id) ON DELETE CASCADE,
        CONSTRAINT deploy_approval_requests_status_known CHECK (status IN ('pending', 'approved', 'rejected', 'expired', 'deployed')),
        CONSTRAINT deploy_approval_requests_progress_known CHECK (progress IN ('approved', 'uploading', 'uploaded', 'building', 'built', 'released', 'promoting', 'deployed')),
        CONSTRAINT deploy_approval_requests_approvals_range CHECK (approvals_required BETWEEN 1 AND 10),
        CONSTRAINT deploy_approval_requests_pending_has_no_progress CHECK (status <> 'pending' OR progress IS NULL),
        CONSTRAINT deploy_approval_requests_deployed_is_done CHECK (status <> 'deployed' OR progress = 'deployed'),
        -- An upload is named before its step starts; the later steps' results are bound by the trigger.
        CONSTRAINT deploy_approval_requests_steps_bound CHECK (object_key IS NOT NULL OR progress IS NULL OR progress = 'approved')
      )`);
    // One open request per token, app and commit: a second ask is answered with the first.
    await queryRunner.query(`
      CREATE UNIQUE INDEX deploy_approval_requests_open_key ON deploy_approval_requests (target_token_id, app, git_commit)
        WHERE status IN ('pending', 'approved')`);
    await queryRunner.query(`CREATE INDEX deploy_approval_requests_created_at_idx ON deploy_approval_requests (created_at)`);
    await queryRunner.query(
      `CREATE INDEX deploy_approval_requests_requested_by_user_id_idx ON deploy_approval_requests (requested_by_user_id)`,
    );
    await queryRunner.query(
      `CREATE INDEX deploy_approval_requests_target_token_owner_id_idx ON deploy_approval_requests (target_token_owner_id)`,
    );

    await queryRunner.query(`
      CREATE TABLE deploy_approval_decisions (
        request_id uuid NOT NULL,
        user_id uuid NOT NULL,
        decision varchar(8) NOT NULL,
        note varchar(2000),
        decided_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT deploy_approval_decisions_pkey PRIMARY KEY (request_id, user_id),
        CONSTRAINT deploy_approval_decisions_request_id_fkey FOREIGN KEY (request_id) REFERENCES deploy_approval_requests(id) ON DELETE CASCADE,
        CONSTRAINT deploy_approval_decisions_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE,
        CONSTRAINT deploy_approval_decisions_decision_known CHECK (decision IN ('approve', 'reject'))
      )`);

    // A request's detail lists the audit events recorded under it.
    await queryRunner.query(
      `CREATE INDEX audit_events_deploy_approval ON audit_events ((details->>'deployApprovalId')) WHERE details ? 'deployApprovalId'`,
    );

    await queryRunner.query(`
      CREATE FUNCTION deploy_approval_requests_in_order() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF (NEW.app, NEW.git_commit, NEW.target_token_id, NEW.target_token_owner_id, NEW.requested_by_user_id, NEW.approvals_required, NEW.created_at)
           IS DISTINCT FROM
           (OLD.app, OLD.git_commit, OLD.target_token_id, OLD.target_token_owner_id, OLD.requested_by_user_id, OLD.approvals_required, OLD.created_at) THEN
          RAISE EXCEPTION 'deploy approval request %: what was asked for cannot change', OLD.id;
        END IF;
        IF NEW.status IS DISTINCT FROM OLD.status AND NOT (
             (OLD.status = 'pending' AND NEW.status IN ('approved', 'rejected', 'expired'))
          OR (OLD.status = 'approved' AND NEW.status IN ('deployed', 'rejected', 'expired'))
        ) THEN
          RAISE EXCEPTION 'deploy approval request %: % cannot become %', OLD.id, OLD.status, NEW.status;
        END IF;
        IF NEW.progress IS DISTINCT FROM OLD.progress THEN
          -- Starting a step needs a live approval; finishing or giving back one already started does not.
          IF NOT (
               (OLD.progress IS NULL AND NEW.progress = 'approved' AND NEW.status = 'approved')
            OR (OLD.progress = 'approved' AND NEW.progress = 'uploading' AND OLD.status = 'approved')
            OR (OLD.progress = 'uploading' AND NEW.progress IN ('uploaded', 'approved'))
            OR (OLD.progress = 'uploaded' AND NEW.progress = 'building' AND OLD.status = 'approved')
            OR (OLD.progress = 'building' AND NEW.progress IN ('built', 'uploaded'))
            OR (OLD.progress = 'built' AND NEW.progress = 'released' AND OLD.status = 'approved')
            OR (OLD.progress = 'released' AND NEW.progress = 'promoting' AND OLD.status = 'approved')
            OR (OLD.progress = 'promoting' AND NEW.progress IN ('deployed', 'released'))
          ) THEN
            RAISE EXCEPTION 'deploy approval request %: step % cannot follow %', OLD.id, NEW.progress, coalesce(OLD.progress, 'none');
          END IF;
        END IF;
        -- Each step's result is written once, by the step that produces it, and bound to the one before.
        IF NEW.object_key IS DISTINCT FROM OLD.object_key AND NOT (
             (OLD.progress = 'approved' AND NEW.progress = 'uploading' AND OLD.object_key IS NULL)
          OR (OLD.progress = 'uploading' AND NEW.progress = 'approved' AND NEW.object_key IS NULL)
        ) THEN
          RAISE EXCEPTION 'deploy approval request %: its upload is already fixed', OLD.id;
        END IF;
        IF NEW.build_id IS DISTINCT FROM OLD.build_id AND NOT (OLD.progress = 'building' AND NEW.progress = 'built' AND OLD.build_id IS NULL) THEN
          RAISE EXCEPTION 'deploy approval request %: its build is already fixed', OLD.id;
        END IF;
        IF NEW.release_id IS DISTINCT FROM OLD.release_id AND NOT (OLD.progress = 'built' AND NEW.progress = 'released' AND OLD.release_id IS NULL) THEN
          RAISE EXCEPTION 'deploy approval request %: its release is already fixed', OLD.id;
        END IF;
        IF NEW.progress IN ('built', 'released', 'promoting', 'deployed') AND NEW.build_id IS NULL THEN
          RAISE EXCEPTION 'deploy approval request %: a deploy past its build names the build', OLD.id;
        END IF;
        IF NEW.progress IN ('released', 'promoting', 'deployed') AND NEW.release_id IS NULL THEN
          RAISE EXCEPTION 'deploy approval request %: a deploy past its release names the release', OLD.id;
        END IF;
        NEW.updated_at := now();
        RETURN NEW;
      END $$`);
    await queryRunner.query(
      `CREATE TRIGGER deploy_approval_requests_in_order BEFORE UPDATE ON deploy_approval_requests FOR EACH ROW EXECUTE FUNCTION deploy_approval_requests_in_order()`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX audit_events_deploy_approval`);
    await queryRunner.query(`DROP TABLE deploy_approval_decisions`);
    await queryRunner.query(`DROP TABLE deploy_approval_requests`);
    await queryRunner.query(`DROP FUNCTION deploy_approval_requests_in_order()`);
  }
}
