ALTER TABLE `notification_status` ADD `dedupe_key` text;--> statement-breakpoint
CREATE UNIQUE INDEX `notification_status_dedupe_unique` ON `notification_status` (`dedupe_key`);--> statement-breakpoint
ALTER TABLE `outbox` ADD `destination` text DEFAULT 'user-events' NOT NULL;