// What a viewer is told on the controls they may not use: members of every role open dashboards; editors change them.
export const EDIT_REFUSAL = "Viewers open dashboards but cannot change them; ask an admin for the editor role.";
