/**
 * Language-side helpers shared by indexing and querying. Accents are folded here, in
 * JavaScript, before PostgreSQL's stemmers see the text: the same on PGlite and on any
 * PostgreSQL server, with no dependency on the `unaccent` extension being installed.
 */
export type Language = 'en' | 'fr';
export type Analyzer = 'english' | 'french' | 'simple';

export const analyzerOf: Record<Language, Analyzer> = { en: 'english', fr: 'french' };
/** Every analyzer a query is run through: each chunk's terms were made by one of them. */
export const queryAnalyzers: Analyzer[] = ['english', 'french'];

export function foldAccents(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/[œ]/g, 'oe')
    .replace(/[Œ]/g, 'OE')
    .replace(/[æ]/g, 'ae')
    .replace(/[’‘]/g, "'");
}

const TOKEN = /[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu;

/**
 * Approximate model tokens: words and punctuation, long words counted as several pieces the
 * way sub-word tokenizers split them. Close enough to size chunks for any embedding model.
 */
export function countTokens(text: string): number {
  let count = 0;
  for (const match of text.matchAll(TOKEN)) count += Math.max(1, Math.ceil(match[0].length / 6));
  return count;
}

export function countWords(text: string): number {
  return text.match(/[\p{L}\p{N}]+/gu)?.length ?? 0;
}

const FRENCH = new Set(['le', 'la', 'les', 'des', 'du', 'de', 'et', 'est', 'une', 'un', 'dans', 'pour', 'que', 'qui', 'sur', 'pas', 'par', 'au', 'aux', 'avec', 'ce', 'cette', 'sont', 'nous', 'vous', 'il', 'elle', 'ne', 'plus', 'ou', 'mais', 'se', 'sa', 'son', 'ses', 'leur', 'été', 'être', 'à', 'où', 'très']);
const ENGLISH = new Set(['the', 'and', 'of', 'to', 'in', 'is', 'are', 'for', 'that', 'with', 'on', 'as', 'by', 'this', 'was', 'be', 'it', 'from', 'at', 'or', 'an', 'which', 'were', 'not', 'have', 'has', 'we', 'you', 'their', 'these', 'can', 'but', 'been', 'its', 'our', 'than', 'when', 'what', 'how', 'do']);

/** French or English by function words (they dominate any sentence); English when unsure. */
export function detectLanguage(text: string): Language {
  let french = 0;
  let english = 0;
  const words = text.toLowerCase().match(/[\p{L}]+/gu) ?? [];
  for (const word of words.slice(0, 2000)) {
    if (FRENCH.has(word)) french += 1;
    if (ENGLISH.has(word)) english += 1;
  }
  if (/[éèêàçù]/.test(text) && french === english) french += 1;
  return french > english ? 'fr' : 'en';
}
