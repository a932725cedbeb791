/**
 * Prompts for real checkpoints. An instruct checkpoint (one whose tokenizer carries a chat
 * template) gets the question as a user turn rendered by its own template; a base checkpoint gets
 * the few-shot prompt of the paper (8-shot GSM8K, 4-shot MATH). Both ask for the task's answer
 * form: "The answer is N" for GSM8K, `\boxed{}` for MATH.
 *
 * Chat templates are Jinja programs; they are rendered in the trainer's Python by transformers'
 * own `apply_chat_template` (trainer/cdpo_trainer/models/chat_template.py), once per problem when
 * the run starts, and the text is tokenized without adding special tokens, as
 * `apply_chat_template(tokenize=True)` does (the template writes the ones it wants). A few-shot
 * prompt is tokenized with the tokenizer's own special tokens: BOS only where the tokenizer adds
 * it.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { LanguageModel } from "../lm/types.ts";
import type { Trainer } from "../trainer/client.ts";
import type { TaskProblem } from "./task.ts";

/** How a problem becomes a prompt. */
export type PromptStyle = "chat" | "fewshot";

/** One worked example of a few-shot prompt. */
export interface FewShotExample {
  question: string;
  /** The worked solution, ending in the task's answer form. */
  solution: string;
}

/** The wording of one task's prompts. */
export interface PromptFormat {
  /** Label of a question in the few-shot prompt ("Question", "Problem"). */
  questionLabel: string;
  /** Label of a solution ("Answer", "Solution"). */
  answerLabel: string;
  /** What the chat turn asks for after the question: the answer form the grader reads. */
  instruction: string;
  /** Few-shot stop strings: the model would go on to write the next example. */
  fewShotStops: readonly string[];
}

/** GSM8K: "The answer is N." */
export const GSM8K_PROMPT: PromptFormat = {
  questionLabel: "Question",
  answerLabel: "Answer",
  instruction:
    'Solve the problem step by step. End your response with "The answer is N." where N is the final number.',
  fewShotStops: ["\nQuestion:", "\n\n"],
};

/** MATH: the final answer in `\boxed{}` (solutions run over several paragraphs). */
export const MATH_PROMPT: PromptFormat = {
  questionLabel: "Problem",
  answerLabel: "Solution",
  instruction: "Solve the problem step by step. Put your final answer in \\boxed{}.",
  fewShotStops: ["\nProblem:"],
};

/** The text of a few-shot prompt for `question`. */
export function fewShotPrompt(
  format: PromptFormat,
  examples: readonly FewShotExample[],
  question: string,
): string {
  const { questionLabel: q, answerLabel: a } = format;
  const shots = examples.map((e) => `${q}: ${e.question}\n${a}: ${e.solution}\n\n`).join("");
  return `${shots}${q}: ${question}\n${a}:`;
}

/** The user turn of a chat prompt for `question`. */
export function chatTurn(
  format: PromptFormat,
  question: string,
): { role: string; content: string } {
  return { role: "user", content: `${question}\n\n${format.instruction}` };
}

/** Whether the checkpoint in `dir` has a chat template (an instruct model). */
export function hasChatTemplate(dir: string): boolean {
  if (existsSync(join(dir, "chat_template.jinja")) || existsSync(join(dir, "chat_template.json"))) {
    return true;
  }
  const config = join(dir, "tokenizer_config.json");
  if (!existsSync(config)) return false;
  try {
    return Boolean(JSON.parse(Deno.readTextFileSync(config)).chat_template);
  } catch {
    return false; // An unreadable config is reported by the tokenizer's own loading.
  }
}

/** The prompts of one run: a style, and each problem's prompt text. */
export class TaskPrompts {
  private constructor(
    readonly style: PromptStyle,
    readonly format: PromptFormat,
    /** What the prompt is, for stage inputs and the report ("8-shot", "chat template"). */
    readonly description: string,
    readonly stopStrings: readonly string[],
    readonly texts: ReadonlyMap<string, string>,
  ) {}

  /**
   * Renders the prompts of `problems`: `style` "auto" is "chat" when the checkpoint has a chat
   * template, else "fewshot". Chat prompts are rendered by the trainer in one request.
   */
  static async build(options: {
    style: PromptStyle | "auto";
    format: PromptFormat;
    examples: readonly FewShotExample[];
    problems: readonly TaskProblem[];
    modelDir: string;
    trainer: () => Promise<Trainer>;
  }): Promise<TaskPrompts> {
    const { format, examples, problems, modelDir } = options;
    const chat = hasChatTemplate(modelDir);
    const style = options.style === "auto" ? (chat ? "chat" : "fewshot") : options.style;
    const texts = new Map<string, string>();
    if (style === "chat") {
      if (!chat) {
        throw new RangeError(
          `Cannot use chat prompts: ${modelDir} has no chat template (tokenizer_config.json ` +
            `"chat_template" or chat_template.jinja); set task.prompt to "fewshot" for a base model`,
        );
      }
      const trainer = await options.trainer();
      const rendered = await trainer.request("chat_prompts", {
        model_dir: modelDir,
        conversations: problems.map((p) => [chatTurn(format, p.question)]),
      });
      (rendered.prompts as string[]).forEach((text, i) => texts.set(problems[i].id, text));
      return new TaskPrompts(style, format, "chat template", [], texts);
    }
    for (const p of problems) texts.set(p.id, fewShotPrompt(format, examples, p.question));
    return new TaskPrompts(
      style,
      format,
      `${examples.length}-shot`,
      format.fewShotStops,
      texts,
    );
  }

  /** The prompt text of `problem` (one of the problems it was built for). */
  text(problem: TaskProblem): string {
    const text = this.texts.get(problem.id);
    if (text === undefined) {
      throw new Error(`Cannot find the prompt of problem '${problem.id}': not among this run's`);
    }
    return text;
  }

  /** The prompt token ids of `problem` for `lm`. */
  ids(lm: LanguageModel, problem: TaskProblem): number[] {
    return lm.tokenize(this.text(problem), { addSpecialTokens: this.style === "fewshot" });
  }
}
