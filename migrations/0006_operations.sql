CREATE TABLE `dead_letters` (
	`id` text PRIMARY KEY NOT NULL,
	`queue` text NOT NULL,
	`notification_id` text NOT NULL,
	`user_id` text,
	`reason` text NOT NULL,
	`message` text,
	`failed_at` integer NOT NULL,
	`redriven_at` integer,
	`redriven_by` text
);
--> statement-breakpoint
CREATE INDEX `dead_letters_failed_at_idx` ON `dead_letters` (`failed_at`);--> statement-breakpoint
CREATE INDEX `dead_letters_redriven_idx` ON `dead_letters` (`redriven_at`);--> statement-breakpoint
CREATE INDEX `notification_status_status_idx` ON `notification_status` (`status`,`created_at`);