/** A member's closed vocabularies, one definition each: genders and the channels marketing consent covers. */
export const genders = ["female", "male", "other", "undisclosed"] as const;
export type Gender = (typeof genders)[number];

export const consentChannels = ["email", "sms", "push"] as const;
export type ConsentChannel = (typeof consentChannels)[number];
