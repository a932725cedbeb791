/**
 * A run config recorded in manifest.json by an older cdpo-kit, read in the current layout, so
 * that the notebooks and the report of a run made before the method table can show its
 * settings. That kit kept the pretraining recipe flat in `world` and one set of hyper-parameters
 * for every method in `training`; each of those keys moves to the key that now holds the same
 * setting. It had no cross-fitting, beta sweep, held-out pairs, validation split or tuning
 * record: those are set to what it did (none). Everything else takes today's defaults, which are
 * the values its trainer used when a request did not name them.
 *
 * @module
 */

type Json = Record<string, unknown>;

/** Keys (dotted) that only the older layout has. */
const OLDER_KEYS = [
  "world.pretrainSteps",
  "world.pretrainBatchSize",
  "world.pretrainLr",
  "training.lr",
  "training.sftLr",
  "training.beta",
  "training.tdpoBeta",
  "training.gamma",
  "training.rpoAlpha",
  "training.cdpoForm",
  "training.tdpo",
  "training.loraRank",
] as const;

const isObject = (v: unknown): v is Json => !!v && typeof v === "object" && !Array.isArray(v);

function get(config: Json, path: string): unknown {
  let v: unknown = config;
  for (const key of path.split(".")) v = isObject(v) ? v[key] : undefined;
  return v;
}

/** Whether `config` (a manifest's `config`) is in the older kit's layout. */
export function isOlderConfig(config: unknown): boolean {
  return isObject(config) && OLDER_KEYS.some((k) => get(config, k) !== undefined);
}

/**
 * `config` in the current layout (a partial config for `resolveRunConfig`); a config already in
 * the current layout is returned as it is.
 */
export function upgradeOlderConfig(config: unknown): unknown {
  if (!isOlderConfig(config)) return config;
  const old = structuredClone(config) as Json;
  const world = (old.world ?? {}) as Json;
  const training = (old.training ?? {}) as Json;
  const take = (from: Json, key: string) => {
    const v = from[key];
    delete from[key];
    return v;
  };
  // Keys the older kit did not write stay unset, so they take their defaults.
  const defined = (o: Json): Json =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

  world.pretrain = defined({
    steps: take(world, "pretrainSteps"),
    batchSize: take(world, "pretrainBatchSize"),
    lr: take(world, "pretrainLr"),
  });

  const lr = take(training, "lr"), beta = take(training, "beta");
  training.hyper = {
    sft: defined({ lr: take(training, "sftLr") }),
    dpo: defined({ lr, beta }),
    dpo_sft: defined({ lr, beta }),
    tokendpo: defined({ lr, beta: take(training, "tdpoBeta"), variant: take(training, "tdpo") }),
    rpo: defined({ lr, beta, alpha: take(training, "rpoAlpha") }),
    cdpo: defined({ lr, gamma: take(training, "gamma"), form: take(training, "cdpoForm") }),
  };
  const rank = take(training, "loraRank");
  if (rank !== undefined) training.lora = { rank };
  training.heldOutPairs = 0;
  training.tuningRecord = null;

  old.contrastive = {
    ...(old.contrastive as Json | undefined),
    outOfSample: false,
    weightsFrom: "in",
    betaSweep: [],
  };
  old.evaluation = { ...(old.evaluation as Json | undefined), validationProblems: 0 };
  return { ...old, world, training };
}
