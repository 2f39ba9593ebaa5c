-- The schema of an empty SQLite database once these migrations ran
-- (services/baseline.py). Written by `tec makemigrations`: do not edit.
-- migrations: 0001_initial 0002_accounts 0003_content_workflow 0004_votes_and_projects 0005_newsletters 0006_resource_publication_index 0007_subscription_requests 0008_newsletter_sections 0009_webhooks 0010_audit_operator 0011_resource_theme_by_theme 0012_event_span_index

CREATE TABLE "tortoise_migrations" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "app" VARCHAR(255) NOT NULL,
    "name" VARCHAR(255) NOT NULL,
    "applied_at" TIMESTAMP NOT NULL,
    CONSTRAINT "uid_tortoise_mi_app_3803a5" UNIQUE ("app", "name")
);

CREATE TABLE "concept" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "slug" VARCHAR(120) NOT NULL UNIQUE,
    "status" VARCHAR(16) NOT NULL  /* DRAFT: DRAFT\nSUBMITTED: SUBMITTED\nPUBLISHED: PUBLISHED\nREJECTED: REJECTED\nARCHIVED: ARCHIVED */,
    "published_at" TIMESTAMP,
    "title" VARCHAR(200) NOT NULL,
    "summary" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "month" DATE,
    "further_reading" VARCHAR(300)
, "version" INT NOT NULL DEFAULT 1);

CREATE TABLE "event" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "slug" VARCHAR(120) NOT NULL UNIQUE,
    "status" VARCHAR(16) NOT NULL  /* DRAFT: DRAFT\nSUBMITTED: SUBMITTED\nPUBLISHED: PUBLISHED\nREJECTED: REJECTED\nARCHIVED: ARCHIVED */,
    "published_at" TIMESTAMP,
    "title" VARCHAR(300) NOT NULL,
    "summary" TEXT NOT NULL,
    "starts_at" TIMESTAMP NOT NULL,
    "ends_at" TIMESTAMP NOT NULL,
    "all_day" INT NOT NULL,
    "city" VARCHAR(120),
    "online" INT NOT NULL,
    "format" VARCHAR(16) NOT NULL  /* WEBINAR: WEBINAR\nTRAINING: TRAINING\nCONFERENCE: CONFERENCE\nAFTERWORK: AFTERWORK\nFESTIVAL: FESTIVAL\nMEETING: MEETING\nFAIR: FAIR\nOTHER: OTHER */,
    "registration_url" VARCHAR(1000)
, "version" INT NOT NULL DEFAULT 1);

CREATE INDEX "idx_event_status_fff538" ON "event" ("status", "starts_at");

CREATE TABLE "organization" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "slug" VARCHAR(120) NOT NULL UNIQUE,
    "name" VARCHAR(200) NOT NULL,
    "acronym" VARCHAR(30),
    "kind" VARCHAR(20) NOT NULL  /* PUBLIC_AGENCY: PUBLIC_AGENCY\nPUBLIC_BANK: PUBLIC_BANK\nASSOCIATION: ASSOCIATION\nLOCAL_AUTHORITY: LOCAL_AUTHORITY\nCOMPANY: COMPANY\nRESEARCH: RESEARCH\nMEDIA: MEDIA\nNETWORK: NETWORK\nOTHER: OTHER */,
    "website" VARCHAR(500),
    "description" TEXT NOT NULL
);

CREATE TABLE "concept_organization" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "concept_id" INT NOT NULL REFERENCES "concept" ("id") ON DELETE CASCADE,
    "organization_id" INT NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_concept_org_concept_f06c0b" UNIQUE ("concept_id", "organization_id")
);

CREATE TABLE "event_organizer" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "event_id" INT NOT NULL REFERENCES "event" ("id") ON DELETE CASCADE,
    "organization_id" INT NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_event_organ_event_i_be6b2c" UNIQUE ("event_id", "organization_id")
);

CREATE TABLE "organization_role" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "role" VARCHAR(20) NOT NULL  /* CO_ANIMATOR: CO_ANIMATOR\nPROVIDER: PROVIDER\nSOURCE: SOURCE\nPARTNER: PARTNER\nORGANIZER: ORGANIZER */,
    "organization_id" INT NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_organizatio_organiz_50e4a3" UNIQUE ("organization_id", "role")
);

CREATE TABLE "resource_organization" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "organization_id" INT NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    "resource_id" INT NOT NULL REFERENCES "resource" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_resource_or_resourc_fa36f5" UNIQUE ("resource_id", "organization_id")
);

CREATE TABLE "territory" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "slug" VARCHAR(120) NOT NULL UNIQUE,
    "name" VARCHAR(200) NOT NULL,
    "level" VARCHAR(16) NOT NULL  /* COMMUNE: COMMUNE\nEPCI: EPCI\nDEPARTEMENT: DEPARTEMENT\nREGION: REGION\nMETROPOLE: METROPOLE */,
    "insee_code" VARCHAR(10)  UNIQUE
);

CREATE TABLE "event_territory" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "event_id" INT NOT NULL REFERENCES "event" ("id") ON DELETE CASCADE,
    "territory_id" INT NOT NULL REFERENCES "territory" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_event_terri_event_i_fbd610" UNIQUE ("event_id", "territory_id")
);

CREATE TABLE "resource_territory" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "resource_id" INT NOT NULL REFERENCES "resource" ("id") ON DELETE CASCADE,
    "territory_id" INT NOT NULL REFERENCES "territory" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_resource_te_resourc_c4bffc" UNIQUE ("resource_id", "territory_id")
);

CREATE TABLE "theme" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "slug" VARCHAR(120) NOT NULL UNIQUE,
    "status" VARCHAR(16) NOT NULL  /* DRAFT: DRAFT\nSUBMITTED: SUBMITTED\nPUBLISHED: PUBLISHED\nREJECTED: REJECTED\nARCHIVED: ARCHIVED */,
    "published_at" TIMESTAMP,
    "title" VARCHAR(200) NOT NULL,
    "introduction" TEXT NOT NULL,
    "month" DATE  UNIQUE,
    "announced_in" DATE,
    "is_next" INT NOT NULL,
    "is_vote_candidate" INT NOT NULL
, "version" INT NOT NULL DEFAULT 1);

CREATE TABLE "event_theme" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "event_id" INT NOT NULL REFERENCES "event" ("id") ON DELETE CASCADE,
    "theme_id" INT NOT NULL REFERENCES "theme" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_event_theme_event_i_090798" UNIQUE ("event_id", "theme_id")
);

CREATE TABLE "resource_theme" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "resource_id" INT NOT NULL REFERENCES "resource" ("id") ON DELETE CASCADE,
    "theme_id" INT NOT NULL REFERENCES "theme" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_resource_th_resourc_989ab9" UNIQUE ("resource_id", "theme_id")
);

CREATE TABLE "voting_round" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "slug" VARCHAR(120) NOT NULL UNIQUE,
    "status" VARCHAR(16) NOT NULL  /* DRAFT: DRAFT\nSUBMITTED: SUBMITTED\nPUBLISHED: PUBLISHED\nREJECTED: REJECTED\nARCHIVED: ARCHIVED */,
    "published_at" TIMESTAMP,
    "title" VARCHAR(200) NOT NULL,
    "description" TEXT NOT NULL,
    "opens_at" TIMESTAMP NOT NULL,
    "closes_at" TIMESTAMP NOT NULL,
    "votes_per_territory" INT NOT NULL,
    "closed_at" TIMESTAMP,
    "winner_id" INT REFERENCES "theme" ("id") ON DELETE SET NULL
, "version" INT NOT NULL DEFAULT 1);

CREATE TABLE "voting_candidate" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "round_id" INT NOT NULL REFERENCES "voting_round" ("id") ON DELETE CASCADE,
    "theme_id" INT NOT NULL REFERENCES "theme" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_voting_cand_round_i_5bcf5b" UNIQUE ("round_id", "theme_id")
);

CREATE TABLE "shared_project" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "slug" VARCHAR(120) NOT NULL UNIQUE,
    "title" VARCHAR(300) NOT NULL,
    "summary" TEXT NOT NULL,
    "status" VARCHAR(16) NOT NULL  /* DRAFT: DRAFT\nOPEN: OPEN\nENGAGEMENT: ENGAGEMENT\nDIAGNOSTIC: DIAGNOSTIC\nACTION_PLANS: ACTION_PLANS\nEVALUATION: EVALUATION\nCOMPLETED: COMPLETED\nCANCELLED: CANCELLED */,
    "starts_on" DATE,
    "ends_on" DATE,
    "theme_id" INT NOT NULL REFERENCES "theme" ("id") ON DELETE RESTRICT,
    "voting_round_id" INT REFERENCES "voting_round" ("id") ON DELETE SET NULL
);

CREATE TABLE "project_membership" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "role" VARCHAR(16) NOT NULL  /* PARTICIPANT: PARTICIPANT\nOBSERVER: OBSERVER */,
    "status" VARCHAR(16) NOT NULL  /* APPLIED: APPLIED\nCONFIRMED: CONFIRMED\nDECLINED: DECLINED\nWITHDRAWN: WITHDRAWN */,
    "action_plan" TEXT NOT NULL,
    "diagnostic_notes" TEXT NOT NULL,
    "confirmed_at" TIMESTAMP,
    "project_id" INT NOT NULL REFERENCES "shared_project" ("id") ON DELETE CASCADE,
    "territory_id" INT NOT NULL REFERENCES "territory" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_project_mem_project_92ce13" UNIQUE ("project_id", "territory_id")
);

CREATE TABLE "project_provider" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "organization_id" INT NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    "project_id" INT NOT NULL REFERENCES "shared_project" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_project_pro_project_08de97" UNIQUE ("project_id", "organization_id")
);

CREATE TABLE "project_stage" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "kind" VARCHAR(16) NOT NULL  /* ENGAGEMENT: ENGAGEMENT\nDIAGNOSTIC: DIAGNOSTIC\nACTION_PLANS: ACTION_PLANS\nEVALUATION: EVALUATION */,
    "position" INT NOT NULL,
    "title" VARCHAR(300) NOT NULL,
    "description" TEXT NOT NULL,
    "starts_on" DATE,
    "ends_on" DATE,
    "project_id" INT NOT NULL REFERENCES "shared_project" ("id") ON DELETE CASCADE, "territory_id" INT REFERENCES "territory" ("id") ON DELETE SET NULL,
    CONSTRAINT "uid_project_sta_project_bb5a90" UNIQUE ("project_id", "position")
);

CREATE TABLE "vote" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "round_id" INT NOT NULL REFERENCES "voting_round" ("id") ON DELETE CASCADE,
    "territory_id" INT NOT NULL REFERENCES "territory" ("id") ON DELETE CASCADE,
    "theme_id" INT NOT NULL REFERENCES "theme" ("id") ON DELETE CASCADE, "cast_by_id" INT REFERENCES "account" ("id") ON DELETE SET NULL,
    CONSTRAINT "uid_vote_round_i_32fc70" UNIQUE ("round_id", "territory_id", "theme_id")
);

CREATE TABLE "account" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "email" VARCHAR(254) NOT NULL UNIQUE,
    "password_hash" VARCHAR(255) NOT NULL,
    "display_name" VARCHAR(200) NOT NULL,
    "role" VARCHAR(20) NOT NULL  /* ADMIN: ADMIN\nEDITOR: EDITOR\nLOCAL_AUTHORITY: LOCAL_AUTHORITY\nPARTNER: PARTNER\nANONYMOUS: ANONYMOUS */,
    "is_active" INT NOT NULL,
    "last_login_at" TIMESTAMP,
    "organization_id" INT REFERENCES "organization" ("id") ON DELETE RESTRICT,
    "territory_id" INT REFERENCES "territory" ("id") ON DELETE RESTRICT
);

CREATE TABLE "access_token" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "token_hash" VARCHAR(64) NOT NULL UNIQUE,
    "expires_at" TIMESTAMP NOT NULL,
    "revoked_at" TIMESTAMP,
    "account_id" INT NOT NULL REFERENCES "account" ("id") ON DELETE CASCADE
);

CREATE TABLE "api_key" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "prefix" VARCHAR(8) NOT NULL UNIQUE,
    "key_hash" VARCHAR(64) NOT NULL UNIQUE,
    "scopes" VARCHAR(100) NOT NULL,
    "revoked_at" TIMESTAMP,
    "last_used_at" TIMESTAMP,
    "organization_id" INT NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE
);

CREATE TABLE "audit_entry" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "at" TIMESTAMP NOT NULL,
    "actor_role" VARCHAR(20) NOT NULL,
    "action" VARCHAR(60) NOT NULL,
    "entity_type" VARCHAR(40) NOT NULL,
    "entity_id" INT NOT NULL,
    "changes" JSON NOT NULL,
    "actor_account_id" INT REFERENCES "account" ("id") ON DELETE SET NULL,
    "actor_api_key_id" INT REFERENCES "api_key" ("id") ON DELETE SET NULL
, "actor_name" VARCHAR(200));

CREATE INDEX "idx_audit_entry_at_c3f19e" ON "audit_entry" ("at");

CREATE INDEX "idx_audit_entry_action_a20b3a" ON "audit_entry" ("action");

CREATE INDEX "idx_audit_entry_entity__3f0cd0" ON "audit_entry" ("entity_type", "entity_id");

CREATE TABLE "outbox_entry" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "topic" VARCHAR(30) NOT NULL,
    "entity_type" VARCHAR(40) NOT NULL,
    "entity_id" INT NOT NULL,
    "attempts" INT NOT NULL,
    "next_attempt_at" TIMESTAMP,
    "last_error" TEXT,
    "processed_at" TIMESTAMP
);

CREATE INDEX "idx_outbox_entr_topic_913488" ON "outbox_entry" ("topic", "processed_at", "id");

CREATE TABLE "resource" ("id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "created_at" TIMESTAMP NOT NULL, "updated_at" TIMESTAMP NOT NULL, "slug" VARCHAR(120) NOT NULL UNIQUE, "status" VARCHAR(16) NOT NULL, "published_at" TIMESTAMP, "title" VARCHAR(300) NOT NULL, "summary" TEXT NOT NULL, "body" TEXT NOT NULL, "kind" VARCHAR(16) NOT NULL, "url" VARCHAR(1000), "audience" VARCHAR(20) NOT NULL, "version" INT NOT NULL DEFAULT 1, "contributed_by_id" INT REFERENCES "account" ("id") ON DELETE SET NULL, "contributed_by_key_id" INT REFERENCES "api_key" ("id") ON DELETE SET NULL, "contributor_organization_id" INT REFERENCES "organization" ("id") ON DELETE SET NULL, "contributor_territory_id" INT REFERENCES "territory" ("id") ON DELETE SET NULL, "rejection_reason" TEXT, "submitted_at" TIMESTAMP);

CREATE TABLE "project_news" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "title" VARCHAR(300) NOT NULL,
    "body" TEXT NOT NULL,
    "published_at" TIMESTAMP NOT NULL,
    "project_id" INT NOT NULL REFERENCES "shared_project" ("id") ON DELETE CASCADE
);

CREATE INDEX "idx_project_new_project_09badc" ON "project_news" ("project_id", "published_at");

CREATE TABLE "project_resource" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "project_id" INT NOT NULL REFERENCES "shared_project" ("id") ON DELETE CASCADE,
    "resource_id" INT NOT NULL REFERENCES "resource" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_project_res_project_aa7cbe" UNIQUE ("project_id", "resource_id")
);

CREATE TABLE "newsletter_template" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "slug" VARCHAR(120) NOT NULL UNIQUE,
    "name" VARCHAR(200) NOT NULL,
    "document" TEXT NOT NULL,
    "mjml" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    "sections" JSON NOT NULL,
    "version" INT NOT NULL DEFAULT 1
);

CREATE TABLE "newsletter_issue" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "slug" VARCHAR(120) NOT NULL UNIQUE,
    "number" INT,
    "title" VARCHAR(300) NOT NULL,
    "subject" VARCHAR(300) NOT NULL,
    "variables" JSON NOT NULL,
    "introduction" TEXT NOT NULL,
    "segment_audiences" JSON NOT NULL,
    "segment_themes" JSON NOT NULL,
    "status" VARCHAR(16) NOT NULL  /* DRAFT: DRAFT\nSCHEDULED: SCHEDULED\nSENDING: SENDING\nSENT: SENT\nCANCELLED: CANCELLED */,
    "scheduled_at" TIMESTAMP,
    "frozen_at" TIMESTAMP,
    "frozen_html" TEXT,
    "frozen_text" TEXT,
    "frozen_subject" VARCHAR(300),
    "sent_at" TIMESTAMP,
    "version" INT NOT NULL DEFAULT 1,
    "scheduled_by_id" INT REFERENCES "account" ("id") ON DELETE SET NULL,
    "template_id" INT REFERENCES "newsletter_template" ("id") ON DELETE RESTRICT
, "month" DATE, "sections" JSON);

CREATE INDEX "idx_newsletter__status_5bc958" ON "newsletter_issue" ("status", "scheduled_at");

CREATE TABLE "subscriber" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "email" VARCHAR(254) NOT NULL UNIQUE,
    "name" VARCHAR(200) NOT NULL,
    "status" VARCHAR(16) NOT NULL  /* PENDING: PENDING\nCONFIRMED: CONFIRMED\nUNSUBSCRIBED: UNSUBSCRIBED\nBOUNCED: BOUNCED */,
    "audience" VARCHAR(20) NOT NULL  /* LOCAL_AUTHORITY: LOCAL_AUTHORITY\nPARTNER: PARTNER\nCITIZEN: CITIZEN */,
    "consent_at" TIMESTAMP NOT NULL,
    "consent_ip" VARCHAR(45) NOT NULL,
    "consent_source" VARCHAR(200) NOT NULL,
    "consent_wording_version" VARCHAR(40) NOT NULL,
    "confirmed_at" TIMESTAMP,
    "confirmed_ip" VARCHAR(45),
    "unsubscribed_at" TIMESTAMP,
    "bounced_at" TIMESTAMP,
    "bounce_reason" VARCHAR(500),
    "link_generation" INT NOT NULL
);

CREATE INDEX "idx_subscriber_status_ca8dee" ON "subscriber" ("status", "audience");

CREATE TABLE "newsletter_delivery" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "status" VARCHAR(16) NOT NULL  /* PENDING: PENDING\nSENDING: SENDING\nSENT: SENT\nFAILED: FAILED\nCANCELLED: CANCELLED */,
    "attempts" INT NOT NULL,
    "next_attempt_at" TIMESTAMP,
    "lease_until" TIMESTAMP,
    "reclaims" INT NOT NULL,
    "sent_at" TIMESTAMP,
    "last_error" VARCHAR(500),
    "issue_id" INT NOT NULL REFERENCES "newsletter_issue" ("id") ON DELETE CASCADE,
    "subscriber_id" INT NOT NULL REFERENCES "subscriber" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_newsletter__issue_i_149784" UNIQUE ("issue_id", "subscriber_id")
);

CREATE INDEX "idx_newsletter__status_e8ea86" ON "newsletter_delivery" ("status", "next_attempt_at");

CREATE INDEX "idx_newsletter__issue_i_40fdee" ON "newsletter_delivery" ("issue_id", "status");

CREATE TABLE "subscriber_theme" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "subscriber_id" INT NOT NULL REFERENCES "subscriber" ("id") ON DELETE CASCADE,
    "theme_id" INT NOT NULL REFERENCES "theme" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_subscriber__subscri_ebbce7" UNIQUE ("subscriber_id", "theme_id")
);

CREATE INDEX "idx_resource_status_published" ON "resource" ("status", "published_at");

CREATE TABLE "subscription_request" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "audience" VARCHAR(20) NOT NULL  /* LOCAL_AUTHORITY: LOCAL_AUTHORITY\nPARTNER: PARTNER\nCITIZEN: CITIZEN */,
    "theme_ids" JSON NOT NULL,
    "consent_at" TIMESTAMP NOT NULL,
    "consent_ip" VARCHAR(45) NOT NULL,
    "consent_source" VARCHAR(200) NOT NULL,
    "consent_wording_version" VARCHAR(40) NOT NULL,
    "link_generation" INT NOT NULL,
    "confirmed_at" TIMESTAMP,
    "subscriber_id" INT NOT NULL REFERENCES "subscriber" ("id") ON DELETE CASCADE
);

CREATE INDEX "idx_subscriptio_subscri_a36587" ON "subscription_request" ("subscriber_id", "consent_at");

CREATE INDEX "idx_subscriptio_consent_835bf5" ON "subscription_request" ("consent_at");

CREATE TABLE "newsletter_issue_item" ("id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "created_at" TIMESTAMP NOT NULL, "updated_at" TIMESTAMP NOT NULL, "issue_id" INT NOT NULL REFERENCES "newsletter_issue" ("id") ON DELETE CASCADE, "section" VARCHAR(24) NOT NULL, "node_id" VARCHAR(120) NOT NULL, "position" INT NOT NULL, "pinned" INT NOT NULL, "removed" INT NOT NULL, "cta" VARCHAR(200));

CREATE TABLE "webhook_endpoint" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "url" VARCHAR(2000) NOT NULL,
    "description" VARCHAR(200) NOT NULL,
    "events" JSON NOT NULL,
    "secret" VARCHAR(100) NOT NULL,
    "previous_secret" VARCHAR(100),
    "previous_secret_until" TIMESTAMP,
    "enabled" INT NOT NULL,
    "disabled_at" TIMESTAMP,
    "disabled_reason" VARCHAR(500),
    "failing_since" TIMESTAMP,
    "last_success_at" TIMESTAMP,
    "disabled_notice_sent_at" TIMESTAMP,
    "created_by_id" INT REFERENCES "account" ("id") ON DELETE SET NULL,
    "organization_id" INT REFERENCES "organization" ("id") ON DELETE CASCADE
);

CREATE TABLE "webhook_event" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "uid" VARCHAR(40) NOT NULL UNIQUE,
    "type" VARCHAR(60) NOT NULL,
    "subject" VARCHAR(80) NOT NULL,
    "body" TEXT NOT NULL,
    "occurred_at" TIMESTAMP NOT NULL
);

CREATE INDEX "idx_webhook_eve_type_ec8fe3" ON "webhook_event" ("type", "id");

CREATE TABLE "webhook_delivery" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "subject" VARCHAR(80) NOT NULL,
    "status" VARCHAR(12) NOT NULL  /* PENDING: PENDING\nSENDING: SENDING\nDELIVERED: DELIVERED\nFAILED: FAILED */,
    "attempts" INT NOT NULL,
    "next_attempt_at" TIMESTAMP NOT NULL,
    "due_at" TIMESTAMP NOT NULL,
    "lease_until" TIMESTAMP,
    "response_code" INT,
    "response_body" TEXT,
    "last_error" TEXT,
    "last_attempt_at" TIMESTAMP,
    "delivered_at" TIMESTAMP,
    "created_at" TIMESTAMP NOT NULL,
    "endpoint_id" INT NOT NULL REFERENCES "webhook_endpoint" ("id") ON DELETE CASCADE,
    "event_id" BIGINT NOT NULL REFERENCES "webhook_event" ("id") ON DELETE CASCADE
);

CREATE INDEX "idx_webhook_del_status_5b6f00" ON "webhook_delivery" ("status", "next_attempt_at");

CREATE INDEX "idx_webhook_del_endpoin_b9ecce" ON "webhook_delivery" ("endpoint_id", "subject", "id");

CREATE INDEX "idx_resource_th_theme_i_346b52" ON "resource_theme" ("theme_id", "resource_id");

CREATE INDEX "idx_event_span" ON "event" (julianday("ends_at") - julianday("starts_at"));
