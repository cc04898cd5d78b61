CREATE TABLE `push_ingress` (
	`notification_id` text PRIMARY KEY NOT NULL,
	`received_at` integer NOT NULL,
	`received_from` text
);
--> statement-breakpoint
CREATE INDEX `push_ingress_received_at_idx` ON `push_ingress` (`received_at`);--> statement-breakpoint
ALTER TABLE `notification_status` ADD `request_id` text;--> statement-breakpoint
ALTER TABLE `notification_status` ADD `correlation_id` text;--> statement-breakpoint
CREATE INDEX `notification_status_request_idx` ON `notification_status` (`request_id`);--> statement-breakpoint
CREATE INDEX `notification_status_correlation_idx` ON `notification_status` (`correlation_id`);--> statement-breakpoint
ALTER TABLE `users` ADD `first_name` text;--> statement-breakpoint
ALTER TABLE `users` ADD `last_name` text;