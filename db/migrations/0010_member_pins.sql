CREATE TABLE `member_pins` (
	`member_id` text PRIMARY KEY NOT NULL,
	`pin_hash` text NOT NULL,
	`failed_attempts` integer DEFAULT 0 NOT NULL,
	`set_at` integer NOT NULL,
	FOREIGN KEY (`member_id`) REFERENCES `members`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "member_pins_failed_attempts" CHECK("member_pins"."failed_attempts" BETWEEN 0 AND 5)
);
