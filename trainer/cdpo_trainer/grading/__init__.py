"""Answer grading that needs Python: MATH answers by math-verify (symbolic equivalence)."""
