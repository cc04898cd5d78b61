ALTER TABLE `oauth_states` ADD `profile` text;--> statement-breakpoint
ALTER TABLE `oauth_states` ADD `app_challenge` text;