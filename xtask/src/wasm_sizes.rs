//! What a wasm module is made of: its sections' sizes, and its code's bytes by crate and
//! by function, read from the name section (`cargo xtask site --breakdown` builds the
//! site with that section kept; the demangled names are wasm-bindgen's).
//!
//! A generic function counts for the crate that defines it (`yew` for a component's
//! lifecycle, even though the component's own `view` is inlined there); a trait
//! method of `<T as Trait>` counts for `T`'s crate.

use std::collections::HashMap;
use std::fmt::Write;

use anyhow::{Context, Result, bail};

/// The breakdown of `wasm`: sections, the `top` crates and the `top` functions.
pub fn breakdown(wasm: &[u8], top: usize) -> Result<String> {
    let module = Module::parse(wasm)?;
    let mut out = String::new();
    writeln!(out, "sections ({} B in all):", wasm.len())?;
    for (name, size) in &module.sections {
        writeln!(out, "{size:>10} B  {name}")?;
    }
    let code: usize = module.bodies.iter().sum();
    let mut crates: HashMap<&str, usize> = HashMap::new();
    let mut functions: Vec<(usize, &str)> = Vec::new();
    for (index, size) in module.bodies.iter().enumerate() {
        let name = module
            .names
            .get(&(module.imported + index))
            .map_or("(unnamed)", String::as_str);
        *crates.entry(crate_of(name)).or_default() += size;
        functions.push((*size, name));
    }
    let mut crates: Vec<_> = crates.into_iter().collect();
    crates.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    functions.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    writeln!(
        out,
        "\ncode by crate ({code} B in {} functions):",
        module.bodies.len()
    )?;
    for (name, size) in crates.iter().take(top) {
        writeln!(out, "{size:>10} B  {:>5.1} %  {name}", percent(*size, code))?;
    }
    writeln!(out, "\nlargest functions:")?;
    for (size, name) in functions.iter().take(top) {
        let short: String = name.chars().take(160).collect();
        writeln!(out, "{size:>10} B  {short}")?;
    }
    Ok(out)
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// The crate a demangled name belongs to: its first path segment, past any `<`, `&`
/// and `mut ` (and `dyn `), so `<yew::X as core::Y>::f` is `yew`.
fn crate_of(name: &str) -> &str {
    let mut rest = name;
    loop {
        let trimmed = rest
            .trim_start_matches(['<', '&', '*', '('])
            .trim_start_matches("mut ")
            .trim_start_matches("const ")
            .trim_start_matches("dyn ");
        if trimmed.len() == rest.len() {
            break;
        }
        rest = trimmed;
    }
    let end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    match &rest[..end] {
        "" => name,
        krate => krate,
    }
}

/// The parts of a module the breakdown reads.
struct Module {
    /// Each section's name (a custom one's own) and size in bytes, in order.
    sections: Vec<(String, usize)>,
    /// How many functions are imported: the first defined function's index.
    imported: usize,
    /// Each defined function's body size in bytes.
    bodies: Vec<usize>,
    /// Function names by index, from the name section.
    names: HashMap<usize, String>,
}

impl Module {
    fn parse(wasm: &[u8]) -> Result<Self> {
        if wasm.get(..4) != Some(b"\0asm") {
            bail!("not a wasm module");
        }
        let mut module = Module {
            sections: Vec::new(),
            imported: 0,
            bodies: Vec::new(),
            names: HashMap::new(),
        };
        let mut r = Reader { bytes: wasm, at: 8 };
        while r.at < wasm.len() {
            let id = r.byte()?;
            let size = r.leb()? as usize;
            let start = r.at;
            let mut section = Reader {
                bytes: r.slice(size)?,
                at: 0,
            };
            let name = match id {
                0 => {
                    let name = section.name()?;
                    if name == "name" {
                        module.read_names(&mut section)?;
                    }
                    name
                }
                2 => {
                    module.imported = count_function_imports(&mut section)?;
                    "import".into()
                }
                10 => {
                    for _ in 0..section.leb()? {
                        let body = section.leb()? as usize;
                        section.slice(body)?;
                        module.bodies.push(body);
                    }
                    "code".into()
                }
                11 => "data".into(),
                1 => "type".into(),
                3 => "function".into(),
                4 => "table".into(),
                5 => "memory".into(),
                6 => "global".into(),
                7 => "export".into(),
                8 => "start".into(),
                9 => "element".into(),
                12 => "data count".into(),
                other => format!("section {other}"),
            };
            module.sections.push((name, r.at - start + 1));
        }
        Ok(module)
    }

    /// The function names subsection of the name section.
    fn read_names(&mut self, section: &mut Reader) -> Result<()> {
        while section.at < section.bytes.len() {
            let kind = section.byte()?;
            let size = section.leb()? as usize;
            let mut sub = Reader {
                bytes: section.slice(size)?,
                at: 0,
            };
            if kind == 1 {
                for _ in 0..sub.leb()? {
                    let index = sub.leb()? as usize;
                    let name = sub.name()?;
                    self.names.insert(index, name);
                }
            }
        }
        Ok(())
    }
}

/// How many of an import section's imports are functions.
fn count_function_imports(section: &mut Reader) -> Result<usize> {
    let mut functions = 0;
    for _ in 0..section.leb()? {
        section.name()?;
        section.name()?;
        match section.byte()? {
            0 => {
                section.leb()?;
                functions += 1;
            }
            // A table: its element type, then limits.
            1 => {
                section.byte()?;
                section.limits()?;
            }
            2 => section.limits()?,
            // A global: its value type and mutability.
            3 => {
                section.byte()?;
                section.byte()?;
            }
            // A tag: its attribute and type.
            4 => {
                section.byte()?;
                section.leb()?;
            }
            other => bail!("unknown import kind {other}"),
        }
    }
    Ok(functions)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8> {
        let b = *self.bytes.get(self.at).context("wasm ends early")?;
        self.at += 1;
        Ok(b)
    }

    fn leb(&mut self) -> Result<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        bail!("LEB128 number too long")
    }

    fn slice(&mut self, len: usize) -> Result<&'a [u8]> {
        let end = self.at.checked_add(len).context("wasm size overflows")?;
        let s = self.bytes.get(self.at..end).context("wasm ends early")?;
        self.at = end;
        Ok(s)
    }

    fn name(&mut self) -> Result<String> {
        let len = self.leb()? as usize;
        Ok(String::from_utf8_lossy(self.slice(len)?).into_owned())
    }

    /// Memory or table limits: a flag, the minimum and (flag bit 0) a maximum.
    fn limits(&mut self) -> Result<()> {
        let flags = self.byte()?;
        self.leb()?;
        if flags & 1 != 0 {
            self.leb()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_belongs_to_the_crate_of_its_first_path() {
        assert_eq!(crate_of("yew::dom_bundle::blist::reconcile"), "yew");
        assert_eq!(
            crate_of("<tempaccess_web::pages::Report as yew::FunctionProvider>::run"),
            "tempaccess_web"
        );
        assert_eq!(
            crate_of("<&mut serde_json::de::Deserializer<R> as serde_core::de::Deserializer>::x"),
            "serde_json"
        );
        assert_eq!(crate_of("<str>::to_lowercase"), "str");
        assert_eq!(crate_of("__wbindgen_malloc"), "__wbindgen_malloc");
    }

    #[test]
    fn the_breakdown_reads_bodies_and_names() {
        // A module with one imported function, two defined ones (bodies of 3 and 5
        // bytes) and names for all three.
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        let section = |id: u8, body: &[u8]| {
            let mut s = vec![id, body.len() as u8];
            s.extend_from_slice(body);
            s
        };
        wasm.extend(section(1, &[1, 0x60, 0, 0]));
        wasm.extend(section(2, &[1, 1, b'm', 1, b'f', 0, 0]));
        wasm.extend(section(3, &[2, 0, 0]));
        wasm.extend(section(
            10,
            &[2, 3, 0, 0x01, 0x0b, 5, 0, 0x01, 0x01, 0x01, 0x0b],
        ));
        let mut names = vec![4, b'n', b'a', b'm', b'e', 1];
        let entries: &[(u8, &str)] = &[(0, "imp"), (1, "a::small"), (2, "b::big")];
        let mut sub = vec![entries.len() as u8];
        for (i, n) in entries {
            sub.push(*i);
            sub.push(n.len() as u8);
            sub.extend_from_slice(n.as_bytes());
        }
        names.push(sub.len() as u8);
        names.extend(sub);
        wasm.extend(section(0, &names));

        let text = breakdown(&wasm, 10).unwrap();
        assert!(text.contains("8 B in 2 functions"), "{text}");
        let big = text.find("5 B  b::big").expect(&text);
        let small = text.find("3 B  a::small").expect(&text);
        assert!(big < small, "{text}");
        assert!(text.contains("62.5 %  b"), "{text}");
    }
}
