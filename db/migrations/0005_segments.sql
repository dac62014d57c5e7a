CREATE TABLE `custom_attribute_definitions` (
	`key` text PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`allowed_values` text,
	`description` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	CONSTRAINT "custom_attribute_definitions_type" CHECK("custom_attribute_definitions"."type" IN ('text', 'number', 'boolean', 'enum')),
	CONSTRAINT "custom_attribute_definitions_values" CHECK(("custom_attribute_definitions"."type" = 'enum') = ("custom_attribute_definitions"."allowed_values" IS NOT NULL))
);
--> statement-breakpoint
CREATE TABLE `member_attributes` (
	`member_id` text NOT NULL,
	`key` text NOT NULL,
	`value_text` text,
	`value_number` real,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`member_id`, `key`),
	FOREIGN KEY (`member_id`) REFERENCES `members`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`key`) REFERENCES `custom_attribute_definitions`(`key`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "member_attributes_one_value" CHECK(("member_attributes"."value_text" IS NULL) <> ("member_attributes"."value_number" IS NULL))
);
--> statement-breakpoint
CREATE TABLE `segment_members` (
	`segment_id` text NOT NULL,
	`member_id` text NOT NULL,
	`entered_at` integer NOT NULL,
	PRIMARY KEY(`segment_id`, `member_id`),
	FOREIGN KEY (`segment_id`) REFERENCES `segments`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`member_id`) REFERENCES `members`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `segment_members_member` ON `segment_members` (`member_id`);--> statement-breakpoint
CREATE TABLE `segments` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`rule` text NOT NULL,
	`member_count` integer DEFAULT 0 NOT NULL,
	`refreshed_at` integer,
	`refresh_lease_until` integer,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	CONSTRAINT "segments_member_count" CHECK("segments"."member_count" >= 0)
);
