/**
 * Every word the embedded world can write: people, objects, the verbs that express each
 * operation in a question, and the fixed words of the solution format.
 *
 * Verb phrases are token templates with placeholders so that the question renderer and
 * {@linkcode worldVocabulary} read the same source.
 *
 * @module
 */

import type { Operation } from "./params.ts";

/** A person who owns the objects, with the pronouns the question uses for them. */
export interface Person {
  name: string;
  subject: "she" | "he";
  possessive: "her" | "his";
}

/** The people a question can be about (also the "other" person of borrow and lend). */
export const PEOPLE: readonly Person[] = [
  ...["mia", "ana", "eva", "zoe", "lily", "nora", "ella", "ruby"].map((name) => ({
    name,
    subject: "she" as const,
    possessive: "her" as const,
  })),
  ...["tom", "leo", "sam", "ben", "max", "noah", "owen", "jack"].map((name) => ({
    name,
    subject: "he" as const,
    possessive: "his" as const,
  })),
];

/** Countable objects (always plural: the world does not inflect). */
export const OBJECTS: readonly string[] = [
  "apples",
  "coins",
  "stamps",
  "cards",
  "marbles",
  "pens",
  "books",
  "shells",
  "stickers",
  "beads",
  "cookies",
  "toys",
];

/** Placeholders inside a verb template. */
export const AMOUNT = "<amount>";
export const OBJECT = "<object>";
export const POSSESSIVE = "<possessive>";
export const OTHER_PERSON = "<other>";

/** Which trigger a verb is, if any: the failure mode that renders it with the wrong meaning. */
export type Trigger = "greedy" | "sampling";

/** One way a question can express an operation. */
export interface Verb {
  /** Stable identifier, stored in each step. */
  id: string;
  operation: Operation;
  /** Tokens of the phrase after the subject pronoun, with placeholders. */
  template: readonly string[];
  /** Set on the two verbs whose meaning the pretraining corpus sometimes gets wrong. */
  trigger?: Trigger;
}

/** Every verb of the world, several per operation. */
export const VERBS: readonly Verb[] = [
  { id: "finds", operation: "add", template: ["finds", AMOUNT, OBJECT] },
  { id: "is_given", operation: "add", template: ["is", "given", AMOUNT, OBJECT] },
  { id: "buys", operation: "add", template: ["buys", AMOUNT, OBJECT] },
  { id: "wins", operation: "add", template: ["wins", AMOUNT, OBJECT] },
  {
    id: "borrows",
    operation: "add",
    template: ["borrows", AMOUNT, OBJECT, "from", OTHER_PERSON],
    trigger: "greedy",
  },
  { id: "loses", operation: "subtract", template: ["loses", AMOUNT, OBJECT] },
  { id: "gives_away", operation: "subtract", template: ["gives", "away", AMOUNT, OBJECT] },
  { id: "sells", operation: "subtract", template: ["sells", AMOUNT, OBJECT] },
  { id: "uses", operation: "subtract", template: ["uses", AMOUNT, OBJECT] },
  {
    id: "lends",
    operation: "subtract",
    template: ["lends", AMOUNT, OBJECT, "to", OTHER_PERSON],
    trigger: "sampling",
  },
  {
    id: "multiplies",
    operation: "multiply",
    template: ["multiplies", POSSESSIVE, OBJECT, "by", AMOUNT],
  },
  {
    id: "swaps_each",
    operation: "multiply",
    template: ["swaps", "each", "of", POSSESSIVE, OBJECT, "for", AMOUNT, OBJECT],
  },
  {
    id: "turns_each",
    operation: "multiply",
    template: ["turns", "each", "of", POSSESSIVE, OBJECT, "into", AMOUNT, OBJECT],
  },
  { id: "divides", operation: "divide", template: ["divides", POSSESSIVE, OBJECT, "by", AMOUNT] },
  {
    id: "splits_piles",
    operation: "divide",
    template: [
      "splits",
      POSSESSIVE,
      OBJECT,
      "into",
      AMOUNT,
      "equal",
      "piles",
      "and",
      "keeps",
      "one",
      "pile",
    ],
  },
  {
    id: "keeps_one_of",
    operation: "divide",
    template: ["keeps", "one", "of", "every", AMOUNT, OBJECT],
  },
];

/** The verb with the given id. @throws {RangeError} naming the accepted ids when unknown. */
export function verbById(id: string): Verb {
  const verb = VERBS.find((v) => v.id === id);
  if (!verb) {
    throw new RangeError(
      `Cannot find verb ${JSON.stringify(id)}: accepted ids are [${
        VERBS.map((v) => v.id).join(", ")
      }]`,
    );
  }
  return verb;
}

/** The verb planted with the given trigger. */
export function triggerVerb(trigger: Trigger): Verb {
  return VERBS.find((v) => v.trigger === trigger)!;
}

/** The meaning word that precedes each step's equation in a solution. */
export const MEANING_WORDS: Readonly<Record<Operation, string>> = {
  add: "gain",
  subtract: "lose",
  multiply: "times",
  divide: "split",
};

/** The operator symbol of each step's equation. */
export const OPERATOR_SYMBOLS: Readonly<Record<Operation, string>> = {
  add: "+",
  subtract: "-",
  multiply: "*",
  divide: "/",
};

/**
 * The benign connectives that start each solution step, with their probabilities. They are free
 * choices (any one is correct), which keeps "lowest policy probability" from trivially finding
 * errors (see world-notes.md).
 */
export const CONNECTIVES: readonly { word: string; probability: number }[] = [
  { word: "then", probability: 0.4 },
  { word: "next", probability: 0.3 },
  { word: "now", probability: 0.2 },
  { word: "so", probability: 0.1 },
];

/**
 * The connective that, where the world's delayedTrapRate is set, dooms the next step: harmless
 * where it stands, fatal one step later. The rarest one, so greedy decoding never writes it.
 */
export const TRAP_CONNECTIVE = "so";

/** Probability that a question step after the first opens with "then" (variety only). */
export const QUESTION_THEN_PROBABILITY = 0.3;

/** Fixed words of the solution format. */
export const SOLUTION_WORDS = { start: "start", answer: "answer", equals: "=", stop: "." } as const;

/** Fixed words of the question format, besides people, objects and verbs. */
export const QUESTION_WORDS: readonly string[] = [
  "has",
  ".",
  "then",
  "how",
  "many",
  "does",
  "have",
  "?",
];

/** The ten digit tokens. */
export const DIGITS: readonly string[] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
