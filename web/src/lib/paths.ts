/** Workspace-relative paths as the file server writes them: "" is the root, "a/b" below. */

export function joinPath(dir: string, name: string): string {
  const clean = name.replace(/^\/+|\/+$/g, "");
  return dir ? `${dir}/${clean}` : clean;
}

export function parentPath(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** A new name for one entry: a plain name, no separators, not "." or "..". */
export function nameProblem(name: string): string | null {
  const trimmed = name.trim();
  if (!trimmed) return "enter a name";
  if (trimmed.includes("/") || trimmed.includes("\\")) return "a name cannot contain / or \\";
  if (trimmed === "." || trimmed === "..") return "not a valid name";
  return null;
}

const IMAGE_EXTENSIONS = new Set(["png", "jpg", "jpeg", "gif", "webp"]);

export function isPreviewableImage(path: string): boolean {
  const dot = path.lastIndexOf(".");
  return dot >= 0 && IMAGE_EXTENSIONS.has(path.slice(dot + 1).toLowerCase());
}

/** highlight.js language for a file name, when we can tell. */
export function languageFor(path: string): string | null {
  const name = baseName(path).toLowerCase();
  if (name === "dockerfile") return "dockerfile";
  if (name === "makefile") return "makefile";
  const ext = name.includes(".") ? name.slice(name.lastIndexOf(".") + 1) : "";
  const map: Record<string, string> = {
    py: "python",
    js: "javascript",
    mjs: "javascript",
    cjs: "javascript",
    jsx: "javascript",
    ts: "typescript",
    tsx: "typescript",
    json: "json",
    md: "markdown",
    sh: "bash",
    bash: "bash",
    zsh: "bash",
    yml: "yaml",
    yaml: "yaml",
    toml: "ini",
    ini: "ini",
    cfg: "ini",
    html: "xml",
    xml: "xml",
    svg: "xml",
    css: "css",
    scss: "scss",
    go: "go",
    rs: "rust",
    java: "java",
    c: "c",
    h: "c",
    cpp: "cpp",
    cc: "cpp",
    hpp: "cpp",
    rb: "ruby",
    php: "php",
    sql: "sql",
    diff: "diff",
    patch: "diff",
    kt: "kotlin",
    swift: "swift",
    lua: "lua",
  };
  return map[ext] ?? null;
}
