/**
 * The arithmetic of one step, including the two ways the pretraining corpus gets it wrong: a
 * confused operation (the partner of the intended one) and a dropped carry or borrow.
 *
 * @module
 */

import type { Operation } from "./params.ts";

/**
 * The result of `left <op> operand`, or null when it is not a whole number (a division that
 * does not come out even). Range checks are the caller's: this is pure arithmetic.
 */
export function applyOperation(operation: Operation, left: number, operand: number): number | null {
  switch (operation) {
    case "add":
      return left + operand;
    case "subtract":
      return left - operand;
    case "multiply":
      return left * operand;
    case "divide":
      return operand !== 0 && left % operand === 0 ? left / operand : null;
  }
}

/**
 * The operation a confused step performs instead: add and subtract swap, multiply and divide
 * swap. Each is the inverse of the other, so a confusion always changes the result.
 */
export function confusedOperation(operation: Operation): Operation {
  switch (operation) {
    case "add":
      return "subtract";
    case "subtract":
      return "add";
    case "multiply":
      return "divide";
    case "divide":
      return "multiply";
  }
}

/**
 * The result of an addition or a multiplication by a single digit written column by column
 * with its lowest carry forgotten, or null when no column carries (or for other operations).
 *
 * Forgetting a carry of c into column k+1 lowers the written result by exactly c * 10^(k+1):
 * the higher columns are computed as usual from a sum that is c * 10^(k+1) smaller.
 */
export function droppedCarryResult(
  operation: Operation,
  left: number,
  operand: number,
): number | null {
  if (operation === "add") {
    for (
      let a = left, b = operand, place = 1;
      a > 0 || b > 0;
      a = Math.floor(a / 10), b = Math.floor(b / 10), place *= 10
    ) {
      if ((a % 10) + (b % 10) >= 10) return left + operand - place * 10;
    }
    return null;
  }
  if (operation === "multiply" && operand >= 0 && operand <= 9) {
    for (let a = left, place = 1; a > 0; a = Math.floor(a / 10), place *= 10) {
      const carry = Math.floor(((a % 10) * operand) / 10);
      if (carry > 0) return left * operand - carry * place * 10;
    }
  }
  return null;
}

/**
 * The result of a subtraction written column by column with its lowest borrow forgotten, or null
 * when no column borrows. Forgetting a borrow from column k+1 raises the result by 10^(k+1).
 */
export function droppedBorrowResult(left: number, operand: number): number | null {
  for (
    let a = left, b = operand, place = 1;
    b > 0;
    a = Math.floor(a / 10), b = Math.floor(b / 10), place *= 10
  ) {
    if (a % 10 < b % 10) return left - operand + place * 10;
  }
  return null;
}
