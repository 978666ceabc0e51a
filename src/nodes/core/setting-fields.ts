/**
 * Reading one raw property of a config node: blank or not, a whole number, a flag, a JSON object.
 * What is wrong with one is a SettingsError that names the setting and how to fix it.
 */
import { Problem, settingLabel, type WordValues } from "./problem";

/** A setting a user can fix in the config node; its code (under `setting`) says which and how. */
export class SettingsError extends Problem {
  constructor(code: string, values: WordValues = {}) {
    super(`setting.${code}`, values);
  }
}

/** Undefined, null, or only spaces. */
export function isBlank(raw: unknown): boolean {
  return raw === undefined || raw === null || String(raw).trim() === "";
}

/** `raw` as trimmed text, or `fallback` when it is blank. */
export function textOr(raw: unknown, fallback: string): string {
  return isBlank(raw) ? fallback : String(raw).trim();
}

/**
 * A whole number setting, named by its property; blank gives `fallback`, or an error when there is
 * none (undefined).
 */
export function integer(
  raw: unknown,
  property: string,
  fallback: number | undefined,
  min: number,
  max?: number,
): number {
  const blank = isBlank(raw);
  if (blank && fallback !== undefined) return fallback;
  let n = NaN; // blank, with no fallback
  if (!blank) n = typeof raw === "number" ? raw : Number(String(raw).trim());
  if (!Number.isSafeInteger(n) || n < min || (max !== undefined && n > max)) {
    const [setting, value] = [settingLabel(property), String(raw ?? "")];
    throw max === undefined
      ? new SettingsError("atLeast", { setting, min, value })
      : new SettingsError("integer", { setting, min, max, value });
  }
  return n;
}

export function flag(raw: unknown, fallback: boolean): boolean {
  if (raw === undefined || raw === null || raw === "") return fallback;
  return raw === true || raw === "true";
}

/** Parses the advanced-options field: empty, or a JSON object. */
export function parseOptionsJson(raw: unknown): Record<string, unknown> {
  if (raw === undefined || raw === null || (typeof raw === "string" && raw.trim() === "")) return {};
  let value: unknown = raw;
  if (typeof raw === "string") {
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw new SettingsError("optionsJson", { error: (err as Error).message });
    }
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new SettingsError("optionsObject");
  return value as Record<string, unknown>;
}
