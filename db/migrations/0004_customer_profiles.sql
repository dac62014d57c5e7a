CREATE TABLE `member_affinities` (
	`member_id` text NOT NULL,
	`subject` text NOT NULL,
	`purchases` integer DEFAULT 0 NOT NULL,
	`amount_minor` integer DEFAULT 0 NOT NULL,
	`last_at` integer NOT NULL,
	PRIMARY KEY(`member_id`, `subject`),
	FOREIGN KEY (`member_id`) REFERENCES `members`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `member_profiles` (
	`member_id` text PRIMARY KEY NOT NULL,
	`first_purchase_at` integer,
	`first_purchase_minor` integer DEFAULT 0 NOT NULL,
	`last_purchase_at` integer,
	`purchase_count` integer DEFAULT 0 NOT NULL,
	`purchase_days` integer DEFAULT 0 NOT NULL,
	`monetary_minor` integer DEFAULT 0 NOT NULL,
	`refund_count` integer DEFAULT 0 NOT NULL,
	`refunded_minor` integer DEFAULT 0 NOT NULL,
	`points_earned` integer DEFAULT 0 NOT NULL,
	`points_redeemed` integer DEFAULT 0 NOT NULL,
	`points_expired` integer DEFAULT 0 NOT NULL,
	`offers_used` integer DEFAULT 0 NOT NULL,
	`interaction_count` integer DEFAULT 0 NOT NULL,
	`last_interaction_at` integer,
	`last_contact_at` integer,
	`satisfaction_sum` integer DEFAULT 0 NOT NULL,
	`satisfaction_count` integer DEFAULT 0 NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`member_id`) REFERENCES `members`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `member_scores` (
	`member_id` text PRIMARY KEY NOT NULL,
	`recency_days` integer,
	`r` integer,
	`f` integer,
	`m` integer,
	`rfm_segment` text,
	`p_alive` real,
	`expected_purchases` real,
	`expected_spend_minor` integer,
	`clv_minor` integer,
	`lifecycle` text NOT NULL,
	`scored_at` integer NOT NULL,
	FOREIGN KEY (`member_id`) REFERENCES `members`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `member_scores_segment` ON `member_scores` (`rfm_segment`);--> statement-breakpoint
CREATE INDEX `member_scores_clv` ON `member_scores` (`clv_minor`);--> statement-breakpoint
ALTER TABLE `interactions` ADD `source` text;--> statement-breakpoint
ALTER TABLE `interactions` ADD `external_id` text;--> statement-breakpoint
CREATE UNIQUE INDEX `interactions_source_event` ON `interactions` (`source`,`external_id`) WHERE external_id IS NOT NULL;