/** French or English, from the words of a short text: enough to answer in the question's language. */
export type Language = 'fr' | 'en';

const frenchWords = new Set(
  'le la les un une des du de au aux et ou est sont que qui quoi quel quelle quels quelles comment pourquoi combien où dans pour par sur avec sans ce cette ces il elle ils elles nous vous je tu mon ma mes son sa ses leur leurs pas ne plus être avoir fait peut doit faut quand lequel laquelle y a-t-il est-ce'.split(' '),
);
const englishWords = new Set(
  'the a an and or is are was were what which who whom whose how why when where in on for by with without this that these those it they we you i my his her their not no do does did can could should must have has had be been of to from at as if there'.split(' '),
);

export function detectLanguage(text: string): Language {
  const words = text.toLowerCase().match(/[\p{L}'-]+/gu) ?? [];
  let fr = /[éèêàùçôîœ]/i.test(text) ? 1 : 0;
  let en = 0;
  for (const word of words) {
    const bare = word.replace(/^(l|d|qu|n|s|c|j)'/, '');
    if (frenchWords.has(word) || (bare !== word && frenchWords.has(bare))) fr += 1;
    if (word !== bare) fr += 1; // elision (l', d', qu') is French
    if (englishWords.has(word)) en += 1;
  }
  return fr > en ? 'fr' : 'en';
}

/** Words that carry no meaning for matching, in both languages. */
export const stopWords = new Set([...frenchWords, ...englishWords, 'est', 'sont', 'été', 'cet', 'aussi', 'also', 'any', 'all', 'tous', 'tout', 'toute', 'toutes']);
