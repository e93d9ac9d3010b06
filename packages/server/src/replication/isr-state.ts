// A leader's view of its bucket's in-sync replica set (Fluss IsrState): committed, or with one
// AdjustIsr proposal in flight. While an expansion is in flight the leader already counts the new
// member for the high watermark (the "maximal" ISR: stricter, so harmless if refused); while a
// shrink is in flight it keeps counting the members it proposed to drop (the shrink may be refused,
// and advancing the high watermark without them could commit what they lack).
// Invariant: at most one proposal in flight per bucket; a committed ISR holds the leader.

import type { LeaderAndIsr, ServerId } from "./types.ts";

export type IsrState =
  | { readonly kind: "committed"; readonly isr: readonly ServerId[] }
  | {
      readonly kind: "pending-expand";
      readonly isr: readonly ServerId[];
      readonly adding: ServerId;
      readonly sent: LeaderAndIsr;
    }
  | {
      readonly kind: "pending-shrink";
      readonly isr: readonly ServerId[];
      readonly removing: readonly ServerId[];
      readonly sent: LeaderAndIsr;
    };

export function committedIsr(isr: readonly ServerId[]): IsrState {
  return { kind: "committed", isr: [...isr] };
}

/** The replicas the high watermark must wait for. */
export function maximalIsr(state: IsrState): readonly ServerId[] {
  if (state.kind === "pending-expand") return [...state.isr, state.adding];
  return state.isr;
}

export function isInflight(state: IsrState): boolean {
  return state.kind !== "committed";
}
