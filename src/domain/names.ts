/**
 * What a partner's till may show of a member's name. Korean practice masks the middle of a name
 * (김민준 → 김*준); Latin names keep the first word and the last initial (Minjun Kim → Minjun K.).
 */
export function displayNameOf(name: string, preferredName?: string | null): string {
  if (preferredName) return preferredName;
  const words = name.trim().split(/\s+/);
  if (words.length > 1) return `${words[0]} ${words[words.length - 1]!.charAt(0)}.`;
  const chars = [...name.trim()];
  if (chars.length <= 1) return chars.join("");
  if (chars.length === 2) return `${chars[0]}*`;
  return `${chars[0]}${"*".repeat(chars.length - 2)}${chars[chars.length - 1]}`;
}
