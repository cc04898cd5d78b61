/**
 * The preferences schemas of src/preferences/preferences.ts (derived from the table), named and
 * illustrated for the OpenAPI document.
 */
import {
  PreferencesInputSchema as Input,
  PreferencesSchema as Output,
} from "../../preferences/preferences";
import { examples } from "../examples";

export const PreferencesInputSchema = Input.openapi("PreferencesInput", {
  example: {
    push: false,
    quiet_hours_start: "22:00",
    quiet_hours_end: "07:00",
    timezone: "Europe/Paris",
  },
});

export const PreferencesSchema = Output.openapi("Preferences", { example: examples.preferences });
