// What the edit dialogs of node-red-contrib-socket-io share, as window.socketIoEditor. Every
// nodes/<type>.html loads it first: Node-RED serves the package's resources/ folder at
// resources/<module>/ and runs a node file's own scripts once it has loaded. The lists the runtime
// decides (event names, targets, actions) come from RED.settings, where registerType's exportable
// settings put them; none is copied here or in the HTML.
(function () {
  "use strict";

  /** The types a room setting may come from; a blank string means the msg property. */
  const ROOM_TYPES = ["str", "json", "msg", "flow", "global", "env"];

  /** "/" or "/name", blank for the default. */
  const NAMESPACE = /^\s*(\/\S*)?\s*$/;

  /** A flow saved by an earlier version may lack a setting: the runtime then uses its default. */
  function missingOr(check) {
    return function (v, opt) {
      return v === undefined || check.call(this, v, opt);
    };
  }

  /**
   * A setting as the open dialog has it, else as the node has it, else `fallback`. Validators run
   * both while a dialog is open and for nodes on the canvas.
   * @param prefix of the field's id: "node-input-" (the default), "node-config-input-" for a config node
   */
  function current(node, name, fallback, prefix) {
    const field = $("#" + (prefix || "node-input-") + name);
    return (field.length ? field.val() : node[name]) || fallback;
  }

  /** Where a Path lives on Node-RED's own server: under httpNodeRoot, where the runtime mounts it. */
  function nodeRedPath(path) {
    const own =
      String(path || "")
        .trim()
        .replace(/\/+$/, "") || "/socket.io";
    const root = String((RED.settings && RED.settings.httpNodeRoot) || "/").replace(/\/+$/, "");
    return root + own;
  }

  /**
   * A list the runtime gives the editor: RED.settings[name], or its property `key`. An editor
   * without it (the node module did not load there) gets an empty list.
   */
  function runtimeList(name, key) {
    const setting = RED.settings ? RED.settings[name] : undefined;
    const list = key === undefined || !setting ? setting : setting[key];
    return Array.isArray(list) ? list : [];
  }

  /** True when `value` is in `list`; an empty list (the runtime's is unknown) admits anything. */
  function admits(list, value) {
    return list.length === 0 || list.indexOf(value) !== -1;
  }

  /** A room name, or an array of room names, as JSON. */
  function isRoomListJson(v) {
    let rooms;
    try {
      rooms = JSON.parse(v);
    } catch {
      return false;
    }
    if (!Array.isArray(rooms)) {
      return typeof rooms === "string";
    }
    return rooms.every(function (r) {
      return typeof r === "string" || typeof r === "number";
    });
  }

  /**
   * A validator for a TypedInput setting that may be left blank as a string: the msg property is
   * used instead. Any other type needs a value (a msg/flow/global property, JSON, an env variable).
   * @param typeField the property that holds the setting's type
   * @param rooms true for a room list: its JSON is a room name or an array of them
   * @param needed when given, a setting the node's other settings leave unused (false) is not checked
   */
  function optionalTypedInput(typeField, rooms, needed) {
    const check = RED.validators.typedInput(typeField);
    return function (v, opt) {
      if (needed && !needed(this)) {
        return true;
      }
      const type = current(this, typeField, "str");
      if (v === undefined || String(v).trim() === "") {
        return type === "str";
      }
      if (rooms && type === "json") {
        return isRoomListJson(v);
      }
      return check.call(this, v, opt);
    };
  }

  /** Makes the dialog's field `name` a TypedInput of `types` whose type is in the field `<name>Type`. */
  function typedInput(name, types) {
    $("#node-input-" + name).typedInput({
      default: "str",
      typeField: $("#node-input-" + name + "Type"),
      types: types || ROOM_TYPES,
    });
  }

  /** Shows or hides the dialog's rows: `rows` maps a class (without `prefix`) to whether it shows. */
  function showRows(prefix, rows) {
    Object.keys(rows).forEach(function (name) {
      $("." + prefix + name).toggle(rows[name]);
    });
  }

  /**
   * Runs `update` now and each time one of `fields` changes (ids, "#node-input-target"), then has
   * the fields `revalidate` checked again: their validators read the changed field.
   */
  function follow(fields, update, revalidate) {
    $(fields.join(", ")).on("change", function () {
      update();
      (revalidate || []).forEach(function (field) {
        $(field).trigger("change");
      });
    });
    update();
  }

  /** A label function that gives the node definition's text for `key` (paletteLabel, port labels). */
  function text(key) {
    return function () {
      return this._(key);
    };
  }

  /** Italic for a node's own name, as core nodes show it. */
  function labelStyle() {
    return this.name ? "node_label_italic" : "";
  }

  window.socketIoEditor = {
    ROOM_TYPES: ROOM_TYPES,
    missingOr: missingOr,
    validNamespace: missingOr(function (v) {
      // The Admin UI's namespace is the server's own.
      return NAMESPACE.test(v) && String(v).trim() !== "/socket-io-admin";
    }),
    current: current,
    runtimeList: runtimeList,
    nodeRedPath: nodeRedPath,
    admits: admits,
    optionalTypedInput: optionalTypedInput,
    typedInput: typedInput,
    showRows: showRows,
    follow: follow,
    text: text,
    labelStyle: labelStyle,
  };
})();
