// Types only: what the browser tests use of the editor's `RED` global inside page.evaluate (the code
// there runs in the page, so nothing of this module may be used at run time).

/** A node as the editor holds it: its settings, and what validation and the runtime added. */
export interface EditorNode {
  id: string;
  type: string;
  valid?: boolean;
  validationErrors?: string[];
  status?: { text?: string };
  wires?: string[][];
  listen?: string;
  path?: string;
  server?: string;
  namespace?: string;
  [setting: string]: unknown;
}

/** A node type's editor definition. */
export interface EditorNodeType {
  paletteLabel?: string | ((this: EditorNodeType) => string);
}

export interface EditorRED {
  _(key: string): string;
  settings: { version: string };
  nodes: {
    eachConfig(visit: (n: EditorNode) => void): void;
    eachNode(visit: (n: EditorNode) => void): void;
    node(id: string): EditorNode;
    getType(type: string): EditorNodeType;
    filterLinks(filter: { source?: { id: string }; target?: { id: string } }): unknown[];
    clear(): void;
    dirty(dirty: boolean): void;
  };
  editor: {
    validateNode(n: EditorNode): void;
    edit(n: EditorNode): void;
    editConfig(name: string, type: string, id: string): void;
  };
  utils: { getNodeLabel(n: EditorNode, fallback: string): string };
  history: { clear(): void };
  workspaces: { add(): void };
  view: { redraw(full: boolean): void };
  sidebar: { help: { show(type: string): void } };
  menu: { setSelected(id: string, selected: boolean): void };
}

/** The page's window, with the editor loaded. */
export type RedWindow = { RED: EditorRED };
