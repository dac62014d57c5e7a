CREATE TABLE `audit_log` (
	`id` text PRIMARY KEY NOT NULL,
	`actor_type` text NOT NULL,
	`actor_id` text NOT NULL,
	`action` text NOT NULL,
	`target_type` text NOT NULL,
	`target_id` text NOT NULL,
	`reason` text,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_log_target` ON `audit_log` (`target_type`,`target_id`,`at`);--> statement-breakpoint
CREATE TABLE `card_tokens` (
	`jti` text PRIMARY KEY NOT NULL,
	`card_id` text NOT NULL,
	`issued_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer,
	FOREIGN KEY (`card_id`) REFERENCES `cards`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `card_tokens_expires` ON `card_tokens` (`expires_at`);--> statement-breakpoint
CREATE TABLE `cards` (
	`id` text PRIMARY KEY NOT NULL,
	`member_id` text NOT NULL,
	`number` text NOT NULL,
	`status` text NOT NULL,
	`replaced_by` text,
	`issued_at` integer NOT NULL,
	`status_changed_at` integer NOT NULL,
	FOREIGN KEY (`member_id`) REFERENCES `members`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "cards_status" CHECK("cards"."status" IN ('active', 'blocked', 'lost', 'replaced'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `cards_number_unique` ON `cards` (`number`);--> statement-breakpoint
CREATE UNIQUE INDEX `cards_one_active_per_member` ON `cards` (`member_id`) WHERE status = 'active';--> statement-breakpoint
CREATE INDEX `cards_member` ON `cards` (`member_id`);--> statement-breakpoint
CREATE TABLE `consents` (
	`id` text PRIMARY KEY NOT NULL,
	`member_id` text NOT NULL,
	`purpose` text NOT NULL,
	`channel` text NOT NULL,
	`granted` integer NOT NULL,
	`source` text NOT NULL,
	`recorded_at` integer NOT NULL,
	FOREIGN KEY (`member_id`) REFERENCES `members`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `consents_member` ON `consents` (`member_id`,`purpose`,`channel`,`recorded_at`);--> statement-breakpoint
CREATE TABLE `idempotency_keys` (
	`scope` text NOT NULL,
	`route` text NOT NULL,
	`key` text NOT NULL,
	`fingerprint` text NOT NULL,
	`response_status` integer NOT NULL,
	`response_body` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	PRIMARY KEY(`scope`, `route`, `key`)
);
--> statement-breakpoint
CREATE INDEX `idempotency_keys_expires` ON `idempotency_keys` (`expires_at`);--> statement-breakpoint
CREATE TABLE `ledger_entries` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`txn_id` text NOT NULL,
	`account` text NOT NULL,
	`points` integer NOT NULL,
	FOREIGN KEY (`txn_id`) REFERENCES `ledger_transactions`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "ledger_entries_nonzero" CHECK("ledger_entries"."points" <> 0)
);
--> statement-breakpoint
CREATE INDEX `ledger_entries_txn` ON `ledger_entries` (`txn_id`);--> statement-breakpoint
CREATE INDEX `ledger_entries_account` ON `ledger_entries` (`account`);--> statement-breakpoint
CREATE TABLE `ledger_transactions` (
	`id` text PRIMARY KEY NOT NULL,
	`member_id` text NOT NULL,
	`kind` text NOT NULL,
	`reason_code` text NOT NULL,
	`description` text NOT NULL,
	`partner_id` text,
	`purchase_id` text,
	`corrects_txn_id` text,
	`reverses_txn_id` text,
	`actor_type` text NOT NULL,
	`actor_id` text NOT NULL,
	`occurred_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`member_id`) REFERENCES `members`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`purchase_id`) REFERENCES `purchases`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "ledger_transactions_kind" CHECK("ledger_transactions"."kind" IN ('purchase', 'refund', 'void', 'expire', 'release', 'adjust'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `ledger_transactions_reverses_txn_id_unique` ON `ledger_transactions` (`reverses_txn_id`);--> statement-breakpoint
CREATE INDEX `ledger_transactions_member` ON `ledger_transactions` (`member_id`,`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `ledger_transactions_one_per_purchase` ON `ledger_transactions` (`purchase_id`) WHERE kind = 'purchase';--> statement-breakpoint
CREATE TABLE `lot_movements` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`txn_id` text NOT NULL,
	`lot_id` text NOT NULL,
	`points` integer NOT NULL,
	FOREIGN KEY (`txn_id`) REFERENCES `ledger_transactions`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`lot_id`) REFERENCES `point_lots`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `lot_movements_txn` ON `lot_movements` (`txn_id`);--> statement-breakpoint
CREATE INDEX `lot_movements_lot` ON `lot_movements` (`lot_id`);--> statement-breakpoint
CREATE TABLE `member_balances` (
	`member_id` text PRIMARY KEY NOT NULL,
	`available` integer DEFAULT 0 NOT NULL,
	`pending` integer DEFAULT 0 NOT NULL,
	`debt` integer DEFAULT 0 NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`member_id`) REFERENCES `members`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "member_balances_available" CHECK("member_balances"."available" >= 0),
	CONSTRAINT "member_balances_pending" CHECK("member_balances"."pending" >= 0),
	CONSTRAINT "member_balances_debt" CHECK("member_balances"."debt" >= 0)
);
--> statement-breakpoint
CREATE TABLE `members` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`preferred_name` text,
	`email` text,
	`phone` text,
	`birth_date` text,
	`gender` text,
	`region` text,
	`tier` text DEFAULT 'basic' NOT NULL,
	`tier_requalify_at` integer,
	`status` text DEFAULT 'active' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	CONSTRAINT "members_contact" CHECK("members"."email" IS NOT NULL OR "members"."phone" IS NOT NULL),
	CONSTRAINT "members_status" CHECK("members"."status" IN ('active', 'closed')),
	CONSTRAINT "members_gender" CHECK("members"."gender" IS NULL OR "members"."gender" IN ('female', 'male', 'other', 'undisclosed'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `members_email_unique` ON `members` (`email`);--> statement-breakpoint
CREATE UNIQUE INDEX `members_phone_unique` ON `members` (`phone`);--> statement-breakpoint
CREATE TABLE `otp_codes` (
	`id` text PRIMARY KEY NOT NULL,
	`recipient` text NOT NULL,
	`member_id` text NOT NULL,
	`code_hash` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`consumed_at` integer,
	FOREIGN KEY (`member_id`) REFERENCES `members`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "otp_codes_attempts" CHECK("otp_codes"."attempts" <= 5)
);
--> statement-breakpoint
CREATE INDEX `otp_codes_recipient` ON `otp_codes` (`recipient`,`created_at`);--> statement-breakpoint
CREATE TABLE `outbox` (
	`id` text PRIMARY KEY NOT NULL,
	`member_id` text,
	`channel` text NOT NULL,
	`recipient` text NOT NULL,
	`subject` text,
	`body` text NOT NULL,
	`kind` text NOT NULL,
	`status` text NOT NULL,
	`provider` text,
	`created_at` integer NOT NULL,
	`sent_at` integer,
	FOREIGN KEY (`member_id`) REFERENCES `members`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "outbox_status" CHECK("outbox"."status" IN ('pending', 'sent', 'failed'))
);
--> statement-breakpoint
CREATE INDEX `outbox_created` ON `outbox` (`created_at`);--> statement-breakpoint
CREATE TABLE `partner_api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`partner_id` text NOT NULL,
	`name` text NOT NULL,
	`prefix` text NOT NULL,
	`key_hash` text NOT NULL,
	`scopes` text NOT NULL,
	`created_at` integer NOT NULL,
	`revoked_at` integer,
	FOREIGN KEY (`partner_id`) REFERENCES `partners`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `partner_api_keys_key_hash_unique` ON `partner_api_keys` (`key_hash`);--> statement-breakpoint
CREATE INDEX `partner_api_keys_partner` ON `partner_api_keys` (`partner_id`);--> statement-breakpoint
CREATE TABLE `partners` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`category` text NOT NULL,
	`status` text DEFAULT 'active' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	CONSTRAINT "partners_status" CHECK("partners"."status" IN ('active', 'suspended'))
);
--> statement-breakpoint
CREATE TABLE `point_lots` (
	`id` text PRIMARY KEY NOT NULL,
	`member_id` text NOT NULL,
	`txn_id` text NOT NULL,
	`points` integer NOT NULL,
	`remaining` integer NOT NULL,
	`earned_at` integer NOT NULL,
	`available_at` integer NOT NULL,
	`released_at` integer,
	`expires_at` integer,
	`notice_sent_at` integer,
	FOREIGN KEY (`member_id`) REFERENCES `members`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`txn_id`) REFERENCES `ledger_transactions`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "point_lots_remaining" CHECK("point_lots"."remaining" >= 0 AND "point_lots"."remaining" <= "point_lots"."points")
);
--> statement-breakpoint
CREATE INDEX `point_lots_member` ON `point_lots` (`member_id`,`expires_at`);--> statement-breakpoint
CREATE INDEX `point_lots_expiry` ON `point_lots` (`expires_at`);--> statement-breakpoint
CREATE INDEX `point_lots_release` ON `point_lots` (`available_at`);--> statement-breakpoint
CREATE TABLE `program_versions` (
	`version` integer PRIMARY KEY NOT NULL,
	`config` text NOT NULL,
	`created_at` integer NOT NULL,
	`created_by` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `purchase_refund_items` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`purchase_id` text NOT NULL,
	`txn_id` text NOT NULL,
	`sku` text NOT NULL,
	`quantity` integer NOT NULL,
	FOREIGN KEY (`purchase_id`) REFERENCES `purchases`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`txn_id`) REFERENCES `ledger_transactions`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "purchase_refund_items_quantity" CHECK("purchase_refund_items"."quantity" > 0)
);
--> statement-breakpoint
CREATE INDEX `purchase_refund_items_purchase` ON `purchase_refund_items` (`purchase_id`,`sku`);--> statement-breakpoint
CREATE TABLE `purchases` (
	`id` text PRIMARY KEY NOT NULL,
	`partner_id` text NOT NULL,
	`receipt_id` text NOT NULL,
	`store_id` text,
	`member_id` text NOT NULL,
	`card_id` text NOT NULL,
	`amount_minor` integer NOT NULL,
	`currency` text NOT NULL,
	`redeemed_points` integer NOT NULL,
	`earned_points` integer NOT NULL,
	`payable_minor` integer NOT NULL,
	`refunded_minor` integer DEFAULT 0 NOT NULL,
	`clawed_points` integer DEFAULT 0 NOT NULL,
	`restored_points` integer DEFAULT 0 NOT NULL,
	`program_version` integer NOT NULL,
	`items` text,
	`breakdown` text NOT NULL,
	`occurred_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`partner_id`) REFERENCES `partners`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`member_id`) REFERENCES `members`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`card_id`) REFERENCES `cards`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "purchases_amounts" CHECK("purchases"."amount_minor" >= 0 AND "purchases"."payable_minor" >= 0 AND "purchases"."redeemed_points" >= 0 AND "purchases"."earned_points" >= 0),
	CONSTRAINT "purchases_refunded" CHECK("purchases"."refunded_minor" >= 0 AND "purchases"."refunded_minor" <= "purchases"."amount_minor"),
	CONSTRAINT "purchases_clawed" CHECK("purchases"."clawed_points" >= 0 AND "purchases"."clawed_points" <= "purchases"."earned_points"),
	CONSTRAINT "purchases_restored" CHECK("purchases"."restored_points" >= 0 AND "purchases"."restored_points" <= "purchases"."redeemed_points")
);
--> statement-breakpoint
CREATE UNIQUE INDEX `purchases_partner_receipt` ON `purchases` (`partner_id`,`receipt_id`);--> statement-breakpoint
CREATE INDEX `purchases_member_time` ON `purchases` (`member_id`,`occurred_at`);--> statement-breakpoint
CREATE TABLE `settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `signing_keys` (
	`kid` text PRIMARY KEY NOT NULL,
	`public_jwk` text NOT NULL,
	`private_jwk` text,
	`status` text NOT NULL,
	`created_at` integer NOT NULL,
	`retired_at` integer,
	CONSTRAINT "signing_keys_status" CHECK("signing_keys"."status" IN ('active', 'retired'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `signing_keys_one_active` ON `signing_keys` (`status`) WHERE status = 'active';--> statement-breakpoint
CREATE TABLE `staff_users` (
	`id` text PRIMARY KEY NOT NULL,
	`email` text NOT NULL,
	`name` text NOT NULL,
	`role` text NOT NULL,
	`password_hash` text NOT NULL,
	`status` text DEFAULT 'active' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	CONSTRAINT "staff_users_role" CHECK("staff_users"."role" IN ('admin', 'marketer')),
	CONSTRAINT "staff_users_status" CHECK("staff_users"."status" IN ('active', 'disabled'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `staff_users_email_unique` ON `staff_users` (`email`);--> statement-breakpoint
CREATE TABLE `tier_history` (
	`id` text PRIMARY KEY NOT NULL,
	`member_id` text NOT NULL,
	`from_tier` text NOT NULL,
	`to_tier` text NOT NULL,
	`reason` text NOT NULL,
	`qualifying_points` integer NOT NULL,
	`at` integer NOT NULL,
	FOREIGN KEY (`member_id`) REFERENCES `members`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `tier_history_member` ON `tier_history` (`member_id`,`at`);