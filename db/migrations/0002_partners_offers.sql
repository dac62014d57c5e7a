-- Hand-edited after drizzle-kit: partners and purchases gain columns with ALTER TABLE ADD COLUMN
-- (column CHECKs) instead of drizzle-kit's table rebuild, whose copy step read columns the old
-- tables lack and whose PRAGMA foreign_keys=OFF does nothing inside a migration transaction.
CREATE TABLE `interactions` (
	`id` text PRIMARY KEY NOT NULL,
	`member_id` text NOT NULL,
	`kind` text NOT NULL,
	`channel` text NOT NULL,
	`partner_id` text,
	`store_id` text,
	`amount_minor` integer,
	`points` integer,
	`reference` text,
	`attributes` text,
	`occurred_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`member_id`) REFERENCES `members`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `interactions_member_time` ON `interactions` (`member_id`,`occurred_at`);--> statement-breakpoint
CREATE INDEX `interactions_kind_time` ON `interactions` (`kind`,`occurred_at`);--> statement-breakpoint
CREATE TABLE `offer_member_usage` (
	`offer_id` text NOT NULL,
	`member_id` text NOT NULL,
	`window` text NOT NULL,
	`uses` integer NOT NULL,
	`max_uses` integer NOT NULL,
	PRIMARY KEY(`offer_id`, `member_id`, `window`),
	FOREIGN KEY (`offer_id`) REFERENCES `offers`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`member_id`) REFERENCES `members`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "offer_member_usage_limit" CHECK("offer_member_usage"."uses" >= 0 AND "offer_member_usage"."uses" <= "offer_member_usage"."max_uses")
);
--> statement-breakpoint
CREATE TABLE `offers` (
	`id` text PRIMARY KEY NOT NULL,
	`partner_id` text,
	`name` text NOT NULL,
	`description` text,
	`kind` text NOT NULL,
	`rules` text NOT NULL,
	`status` text DEFAULT 'active' NOT NULL,
	`valid_from` integer NOT NULL,
	`valid_until` integer,
	`budget_count` integer,
	`budget_amount_minor` integer,
	`used_count` integer DEFAULT 0 NOT NULL,
	`used_amount_minor` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`partner_id`) REFERENCES `partners`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "offers_kind" CHECK("offers"."kind" IN ('percent', 'amount', 'points_reward')),
	CONSTRAINT "offers_status" CHECK("offers"."status" IN ('active', 'paused', 'ended')),
	CONSTRAINT "offers_budget_count" CHECK("offers"."used_count" >= 0 AND ("offers"."budget_count" IS NULL OR "offers"."used_count" <= "offers"."budget_count")),
	CONSTRAINT "offers_budget_amount" CHECK("offers"."used_amount_minor" >= 0 AND ("offers"."budget_amount_minor" IS NULL OR "offers"."used_amount_minor" <= "offers"."budget_amount_minor"))
);
--> statement-breakpoint
CREATE INDEX `offers_partner` ON `offers` (`partner_id`,`status`);--> statement-breakpoint
CREATE TABLE `purchase_offer_refunds` (
	`txn_id` text NOT NULL,
	`purchase_id` text NOT NULL,
	`offer_id` text NOT NULL,
	`discount_minor` integer NOT NULL,
	`operator_funded_minor` integer NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`txn_id`, `offer_id`),
	FOREIGN KEY (`txn_id`) REFERENCES `ledger_transactions`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`purchase_id`) REFERENCES `purchases`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`offer_id`) REFERENCES `offers`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `purchase_offer_refunds_purchase` ON `purchase_offer_refunds` (`purchase_id`);--> statement-breakpoint
CREATE TABLE `purchase_offers` (
	`purchase_id` text NOT NULL,
	`offer_id` text NOT NULL,
	`member_id` text NOT NULL,
	`discount_minor` integer NOT NULL,
	`operator_funded_minor` integer NOT NULL,
	`points_cost` integer DEFAULT 0 NOT NULL,
	`refunded_discount_minor` integer DEFAULT 0 NOT NULL,
	`refunded_operator_funded_minor` integer DEFAULT 0 NOT NULL,
	`released_at` integer,
	`occurred_at` integer NOT NULL,
	PRIMARY KEY(`purchase_id`, `offer_id`),
	FOREIGN KEY (`purchase_id`) REFERENCES `purchases`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`offer_id`) REFERENCES `offers`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "purchase_offers_amounts" CHECK("purchase_offers"."discount_minor" >= 0 AND "purchase_offers"."operator_funded_minor" BETWEEN 0 AND "purchase_offers"."discount_minor" AND "purchase_offers"."refunded_discount_minor" BETWEEN 0 AND "purchase_offers"."discount_minor"
          AND "purchase_offers"."refunded_operator_funded_minor" BETWEEN 0 AND "purchase_offers"."operator_funded_minor")
);
--> statement-breakpoint
CREATE INDEX `purchase_offers_member` ON `purchase_offers` (`member_id`,`offer_id`,`occurred_at`);--> statement-breakpoint
CREATE TABLE `stores` (
	`id` text PRIMARY KEY NOT NULL,
	`partner_id` text NOT NULL,
	`code` text NOT NULL,
	`name` text NOT NULL,
	`address` text,
	`latitude` real,
	`longitude` real,
	`status` text DEFAULT 'active' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`partner_id`) REFERENCES `partners`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "stores_status" CHECK("stores"."status" IN ('active', 'closed')),
	CONSTRAINT "stores_coordinates" CHECK(("stores"."latitude" IS NULL OR "stores"."latitude" BETWEEN -90 AND 90) AND ("stores"."longitude" IS NULL OR "stores"."longitude" BETWEEN -180 AND 180))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `stores_partner_code` ON `stores` (`partner_id`,`code`);--> statement-breakpoint
ALTER TABLE `partners` ADD `contact_name` text;--> statement-breakpoint
ALTER TABLE `partners` ADD `contact_email` text;--> statement-breakpoint
ALTER TABLE `partners` ADD `contact_phone` text;--> statement-breakpoint
ALTER TABLE `partners` ADD `point_cost_milli` integer DEFAULT 1000 NOT NULL CONSTRAINT "partners_point_cost" CHECK("point_cost_milli" >= 0);--> statement-breakpoint
ALTER TABLE `partners` ADD `redemption_rate_milli` integer DEFAULT 1000 NOT NULL CONSTRAINT "partners_redemption_rate" CHECK("redemption_rate_milli" >= 0);--> statement-breakpoint
ALTER TABLE `purchases` ADD `discount_minor` integer DEFAULT 0 NOT NULL CONSTRAINT "purchases_discount_minor" CHECK("discount_minor" >= 0);--> statement-breakpoint
ALTER TABLE `purchases` ADD `refunded_discount_minor` integer DEFAULT 0 NOT NULL CONSTRAINT "purchases_discount" CHECK("refunded_discount_minor" >= 0 AND "refunded_discount_minor" <= "discount_minor");--> statement-breakpoint
ALTER TABLE `purchases` ADD `point_cost_milli` integer DEFAULT 1000 NOT NULL;--> statement-breakpoint
ALTER TABLE `purchases` ADD `redemption_rate_milli` integer DEFAULT 1000 NOT NULL;--> statement-breakpoint
ALTER TABLE `purchases` ADD `card_token_jti` text;--> statement-breakpoint
CREATE UNIQUE INDEX `purchases_card_token` ON `purchases` (`card_token_jti`) WHERE card_token_jti IS NOT NULL;--> statement-breakpoint
CREATE INDEX `purchases_partner_time` ON `purchases` (`partner_id`,`created_at`);
