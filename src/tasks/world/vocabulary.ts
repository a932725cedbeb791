/**
 * Every token the world can write, derived from the lexicon (not from samples), so a tokenizer
 * trained on a corpus can be checked against it.
 *
 * @module
 */

import {
  AMOUNT,
  CONNECTIVES,
  DIGITS,
  MEANING_WORDS,
  OBJECT,
  OBJECTS,
  OPERATOR_SYMBOLS,
  OTHER_PERSON,
  PEOPLE,
  POSSESSIVE,
  QUESTION_WORDS,
  SOLUTION_WORDS,
  VERBS,
} from "./lexicon.ts";
import { confusedOperation } from "./arithmetic.ts";
import type { WorldParams } from "./params.ts";

const PLACEHOLDERS = new Set([AMOUNT, OBJECT, POSSESSIVE, OTHER_PERSON]);

/**
 * The sorted, distinct tokens of questions and solutions under `params` (verbs, meaning words
 * and operators of disabled operations are left out, except the partner operation of a trigger
 * verb in use, which pretraining solutions write when they confuse it).
 */
export function worldVocabulary(
  params: Pick<WorldParams, "operations" | "greedyTriggerShare" | "samplingTriggerShare">,
): string[] {
  const tokens = new Set<string>([
    ...DIGITS,
    ...QUESTION_WORDS,
    ...OBJECTS,
    ...Object.values(SOLUTION_WORDS),
  ]);
  for (const person of PEOPLE) tokens.add(person.name).add(person.subject);
  for (const connective of CONNECTIVES) tokens.add(connective.word);
  const enabled = new Set(params.operations);
  for (const verb of VERBS) {
    const share = verb.trigger === "greedy"
      ? params.greedyTriggerShare
      : verb.trigger === "sampling"
      ? params.samplingTriggerShare
      : 0;
    if (share > 0 && params.operations.includes(verb.operation)) {
      enabled.add(confusedOperation(verb.operation));
    }
  }
  for (const verb of VERBS) {
    if (!params.operations.includes(verb.operation)) continue;
    for (const token of verb.template) if (!PLACEHOLDERS.has(token)) tokens.add(token);
    if (verb.template.includes(POSSESSIVE)) {
      for (const person of PEOPLE) tokens.add(person.possessive);
    }
  }
  for (const operation of enabled) {
    tokens.add(MEANING_WORDS[operation]).add(OPERATOR_SYMBOLS[operation]);
  }
  return [...tokens].sort();
}
