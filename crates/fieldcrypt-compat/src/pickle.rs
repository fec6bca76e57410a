//! A restricted unpickler for what django-cryptography stores: `pickle.dumps` of a field's
//! Python value (protocols 2 to 5; 3 on Python 3.7 and older, 4 up to 3.13, 5 on 3.14).
//!
//! Pickle is a program for a stack machine that can call any importable function, so a real
//! unpickler on untrusted bytes runs arbitrary code. This one is not a Python interpreter: it
//! knows a fixed list of opcodes and a fixed list of globals (the constructors of `date`,
//! `datetime`, `timezone`, `timedelta`, `Decimal`, `zoneinfo.ZoneInfo` and pytz's zones), and
//! it builds only `str`, `int`, `bool`, `float`, `None`, `Decimal`, `date`, `datetime`, `list`
//! and `dict`. Anything else (another global, a class instance, `BUILD`, bytes or tuples in the
//! result, persistent ids) is refused with [`PickleError`]. Sizes are bounded by the input, the
//! result's depth by [`MAX_DEPTH`], and every copy the reader makes (a shared value used again,
//! a constructor's text argument) is charged against a budget of [`MAX_NODES`] values plus 16
//! bytes per input byte, so a crafted pickle cannot blow up memory.

use std::collections::HashMap;

/// How deeply lists and dicts may nest.
pub const MAX_DEPTH: usize = 64;
/// How many values a result may hold, shared references counted each time they are used (the
/// budget also allows 16 copied bytes per input byte).
pub const MAX_NODES: usize = 1 << 20;
/// Copied bytes allowed per input byte.
const BYTES_PER_INPUT_BYTE: usize = 16;

/// Why a pickle was refused. Messages name opcodes and globals, never the data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PickleError {
    /// The bytes end before `STOP`, or an argument runs past the end.
    #[error("the pickle is truncated")]
    Truncated,
    /// An opcode this reader does not run (it would build something outside the whitelist).
    #[error("pickle opcode 0x{0:02x} is not accepted")]
    Opcode(u8),
    /// A global outside the whitelist.
    #[error(
        "pickle global {0} is not accepted (only date, datetime, timezone, timedelta, Decimal, ZoneInfo and pytz zones are)"
    )]
    Global(String),
    /// A stack or memo operation that does not fit the stack (a malformed pickle).
    #[error("malformed pickle: {0}")]
    Malformed(&'static str),
    /// A whitelisted constructor called with arguments Python's own would refuse.
    #[error("pickle calls {0} with arguments it does not take")]
    BadArguments(&'static str),
    /// The result is of a type outside the whitelist (a tuple, bytes, a class).
    #[error("pickle result holds a {0}, which is not accepted")]
    Type(&'static str),
    /// Deeper than [`MAX_DEPTH`], or more than [`MAX_NODES`] values.
    #[error("pickle result too large or too deeply nested")]
    TooLarge,
    /// Bytes after `STOP`.
    #[error("bytes after the pickle's STOP")]
    Trailing,
}

/// A time zone attached to a datetime.
#[derive(Clone, PartialEq, Eq)]
pub enum TzInfo {
    /// `datetime.timezone(timedelta(...))` or pytz's fixed offsets: seconds east of UTC.
    Fixed(i32),
    /// `zoneinfo.ZoneInfo(key)` (or a pytz zone without a recorded offset): an IANA name.
    Named(String),
}

impl core::fmt::Debug for TzInfo {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            TzInfo::Fixed(s) => write!(f, "Fixed({s})"),
            TzInfo::Named(n) => write!(f, "Named({n})"),
        }
    }
}

/// A `datetime.datetime`, as Python holds it: wall-clock fields, `fold`, and an optional zone.
#[derive(Clone, PartialEq, Eq)]
pub struct PyDateTime {
    /// Year, 1 to 9999.
    pub year: i32,
    /// Month, 1 to 12.
    pub month: u8,
    /// Day of the month.
    pub day: u8,
    /// Hour, 0 to 23.
    pub hour: u8,
    /// Minute.
    pub minute: u8,
    /// Second.
    pub second: u8,
    /// Microsecond, below 1,000,000.
    pub microsecond: u32,
    /// PEP 495's `fold`: 1 picks the later of two wall times that repeat.
    pub fold: u8,
    /// `None` for a naive datetime.
    pub tz: Option<TzInfo>,
}

/// A value the whitelist allows. No `Debug` of contents: values are plaintext.
#[derive(Clone, PartialEq)]
pub enum PyValue {
    /// `None`.
    None,
    /// `bool`.
    Bool(bool),
    /// `int` (up to 128 bits; Django's largest integer field holds 64).
    Int(i128),
    /// `float`.
    Float(f64),
    /// `str`.
    Str(String),
    /// `decimal.Decimal`, as the text it was pickled with (e.g. `1234.50`, `-1E+3`, `NaN`).
    Decimal(String),
    /// `datetime.date`: year, month, day.
    Date(i32, u8, u8),
    /// `datetime.datetime`.
    DateTime(PyDateTime),
    /// `list`.
    List(Vec<PyValue>),
    /// `dict`, in insertion order.
    Dict(Vec<(PyValue, PyValue)>),
}

impl core::fmt::Debug for PyValue {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            PyValue::None => "PyValue::None",
            PyValue::Bool(_) => "PyValue::Bool(..)",
            PyValue::Int(_) => "PyValue::Int(..)",
            PyValue::Float(_) => "PyValue::Float(..)",
            PyValue::Str(_) => "PyValue::Str(..)",
            PyValue::Decimal(_) => "PyValue::Decimal(..)",
            PyValue::Date(..) => "PyValue::Date(..)",
            PyValue::DateTime(_) => "PyValue::DateTime(..)",
            PyValue::List(_) => "PyValue::List(..)",
            PyValue::Dict(_) => "PyValue::Dict(..)",
        })
    }
}

/// The globals a pickle may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Global {
    Date,
    DateTime,
    TimeZone,
    TimeDelta,
    Decimal,
    ZoneInfo,
    GetAttr,
    PytzUtc,
    PytzP,
}

impl Global {
    fn find(module: &str, name: &str) -> Result<Self, PickleError> {
        Ok(match (module, name) {
            ("datetime", "date") => Global::Date,
            ("datetime", "datetime") => Global::DateTime,
            ("datetime", "timezone") => Global::TimeZone,
            ("datetime", "timedelta") => Global::TimeDelta,
            ("decimal", "Decimal") => Global::Decimal,
            ("zoneinfo", "ZoneInfo") => Global::ZoneInfo,
            // Only ever applied to (ZoneInfo, "_unpickle"); see `reduce`.
            ("builtins", "getattr") => Global::GetAttr,
            ("pytz", "_UTC") => Global::PytzUtc,
            ("pytz", "_p") => Global::PytzP,
            _ => return Err(PickleError::Global(printable_name(module, name))),
        })
    }
}

/// `module.name` for an error message, if both look like Python identifiers (at most 64
/// characters); else a placeholder, so that no decrypted data reaches a message.
fn printable_name(module: &str, name: &str) -> String {
    let identifier = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
    };
    if identifier(module) && identifier(name) {
        format!("{module}.{name}")
    } else {
        "(a name that is not a Python identifier)".to_owned()
    }
}

/// An object under construction. Containers refer to other objects by index, so that a
/// memoised list that is appended to later is the same list wherever it is referenced.
#[derive(Clone)]
enum Obj {
    None,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    List(Vec<usize>),
    Tuple(Vec<usize>),
    Dict(Vec<(usize, usize)>),
    Global(Global),
    ZoneInfoUnpickle,
    Decimal(String),
    Date(i32, u8, u8),
    DateTime(PyDateTime),
    TimeDelta(i64),
    Tz(TzInfo),
}

#[derive(Clone, Copy)]
enum Slot {
    Mark,
    Obj(usize),
}

struct Machine<'a> {
    input: &'a [u8],
    pos: usize,
    objects: Vec<Obj>,
    stack: Vec<Slot>,
    memo: HashMap<u32, usize>,
    /// What copies may still cost: values plus bytes.
    budget: usize,
}

/// Runs a pickle and returns the value it builds, if everything in it is on the whitelist.
pub fn unpickle(input: &[u8]) -> Result<PyValue, PickleError> {
    let mut m = Machine {
        input,
        pos: 0,
        objects: Vec::new(),
        stack: Vec::new(),
        memo: HashMap::new(),
        budget: MAX_NODES.saturating_add(input.len().saturating_mul(BYTES_PER_INPUT_BYTE)),
    };
    let root = m.run()?;
    if m.pos != input.len() {
        return Err(PickleError::Trailing);
    }
    let mut budget = m.budget;
    m.materialize(root, 0, &mut budget)
}

impl Machine<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], PickleError> {
        let end = self.pos.checked_add(n).ok_or(PickleError::Truncated)?;
        let bytes = self
            .input
            .get(self.pos..end)
            .ok_or(PickleError::Truncated)?;
        self.pos = end;
        Ok(bytes)
    }

    fn byte(&mut self) -> Result<u8, PickleError> {
        Ok(self.take(1)?[0])
    }

    fn le<const N: usize>(&mut self) -> Result<[u8; N], PickleError> {
        let mut out = [0_u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// A length prefix of `N` little-endian bytes, checked against what is left.
    fn len<const N: usize>(&mut self) -> Result<usize, PickleError> {
        let raw = self.le::<N>()?;
        let mut wide = [0_u8; 8];
        wide[..N].copy_from_slice(&raw);
        let n = usize::try_from(u64::from_le_bytes(wide)).map_err(|_| PickleError::Truncated)?;
        if n > self.input.len() - self.pos {
            return Err(PickleError::Truncated);
        }
        Ok(n)
    }

    fn line(&mut self) -> Result<String, PickleError> {
        let rest = &self.input[self.pos..];
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or(PickleError::Truncated)?;
        let text = std::str::from_utf8(&rest[..end])
            .map_err(|_| PickleError::Malformed("a GLOBAL name is not UTF-8"))?
            .to_owned();
        self.pos += end + 1;
        Ok(text)
    }

    /// Takes `cost` from the copy budget.
    fn charge(&mut self, cost: usize) -> Result<(), PickleError> {
        self.budget = self
            .budget
            .checked_sub(cost.saturating_add(1))
            .ok_or(PickleError::TooLarge)?;
        Ok(())
    }

    fn push(&mut self, obj: Obj) {
        self.objects.push(obj);
        self.stack.push(Slot::Obj(self.objects.len() - 1));
    }

    fn pop(&mut self) -> Result<usize, PickleError> {
        match self.stack.pop() {
            Some(Slot::Obj(i)) => Ok(i),
            Some(Slot::Mark) => Err(PickleError::Malformed("a MARK where a value belongs")),
            None => Err(PickleError::Malformed("pop from an empty stack")),
        }
    }

    fn top(&self) -> Result<usize, PickleError> {
        match self.stack.last() {
            Some(Slot::Obj(i)) => Ok(*i),
            Some(Slot::Mark) => Err(PickleError::Malformed("a MARK where a value belongs")),
            None => Err(PickleError::Malformed("an empty stack")),
        }
    }

    /// The values above the topmost mark, with the mark removed.
    fn pop_mark(&mut self) -> Result<Vec<usize>, PickleError> {
        let at = self
            .stack
            .iter()
            .rposition(|s| matches!(s, Slot::Mark))
            .ok_or(PickleError::Malformed("no MARK"))?;
        let items = self.stack.split_off(at + 1);
        self.stack.pop();
        items
            .into_iter()
            .map(|s| match s {
                Slot::Obj(i) => Ok(i),
                Slot::Mark => Err(PickleError::Malformed("nested MARK")),
            })
            .collect()
    }

    fn memo_put(&mut self, key: u32) -> Result<(), PickleError> {
        let top = self.top()?;
        self.memo.insert(key, top);
        Ok(())
    }

    fn memo_get(&mut self, key: u32) -> Result<(), PickleError> {
        let i = *self
            .memo
            .get(&key)
            .ok_or(PickleError::Malformed("memo key not set"))?;
        self.stack.push(Slot::Obj(i));
        Ok(())
    }

    fn append(&mut self, list: usize, items: &[usize]) -> Result<(), PickleError> {
        match &mut self.objects[list] {
            Obj::List(v) => {
                v.extend_from_slice(items);
                Ok(())
            }
            _ => Err(PickleError::Malformed("APPEND to something not a list")),
        }
    }

    fn set_items(&mut self, dict: usize, items: &[usize]) -> Result<(), PickleError> {
        if !items.len().is_multiple_of(2) {
            return Err(PickleError::Malformed("SETITEMS with an odd count"));
        }
        match &mut self.objects[dict] {
            Obj::Dict(v) => {
                v.extend(items.chunks(2).map(|p| (p[0], p[1])));
                Ok(())
            }
            _ => Err(PickleError::Malformed("SETITEM on something not a dict")),
        }
    }

    fn run(&mut self) -> Result<usize, PickleError> {
        loop {
            let op = self.byte()?;
            match op {
                // PROTO: any protocol up to 5; FRAME: a length hint.
                0x80 => {
                    if self.byte()? > 5 {
                        return Err(PickleError::Malformed("protocol newer than 5"));
                    }
                }
                0x95 => {
                    self.take(8)?;
                }
                b'.' => return self.pop(),
                b'(' => self.stack.push(Slot::Mark),
                b'0' => {
                    self.stack
                        .pop()
                        .ok_or(PickleError::Malformed("POP from an empty stack"))?;
                }
                b'1' => {
                    self.pop_mark()?;
                }
                b'2' => {
                    let top = self.top()?;
                    self.stack.push(Slot::Obj(top));
                }
                b'N' => self.push(Obj::None),
                0x88 => self.push(Obj::Bool(true)),
                0x89 => self.push(Obj::Bool(false)),
                b'J' => {
                    let v = i32::from_le_bytes(self.le::<4>()?);
                    self.push(Obj::Int(v.into()));
                }
                b'K' => {
                    let v = self.byte()?;
                    self.push(Obj::Int(v.into()));
                }
                b'M' => {
                    let v = u16::from_le_bytes(self.le::<2>()?);
                    self.push(Obj::Int(v.into()));
                }
                0x8a | 0x8b => {
                    let n = if op == 0x8a {
                        self.len::<1>()?
                    } else {
                        self.len::<4>()?
                    };
                    let bytes = self.take(n)?;
                    let v = int_from_le_signed(bytes)?;
                    self.push(Obj::Int(v));
                }
                b'G' => {
                    let v = f64::from_be_bytes(self.le::<8>()?);
                    self.push(Obj::Float(v));
                }
                0x8c | b'X' | 0x8d => {
                    let n = match op {
                        0x8c => self.len::<1>()?,
                        b'X' => self.len::<4>()?,
                        _ => self.len::<8>()?,
                    };
                    let text = std::str::from_utf8(self.take(n)?)
                        .map_err(|_| PickleError::Malformed("a str that is not UTF-8"))?
                        .to_owned();
                    self.push(Obj::Str(text));
                }
                b'C' | b'B' | 0x8e => {
                    let n = match op {
                        b'C' => self.len::<1>()?,
                        b'B' => self.len::<4>()?,
                        _ => self.len::<8>()?,
                    };
                    let bytes = self.take(n)?.to_vec();
                    self.push(Obj::Bytes(bytes));
                }
                b']' => self.push(Obj::List(Vec::new())),
                b'l' => {
                    let items = self.pop_mark()?;
                    self.push(Obj::List(items));
                }
                b'a' => {
                    let item = self.pop()?;
                    let list = self.top()?;
                    self.append(list, &[item])?;
                }
                b'e' => {
                    let items = self.pop_mark()?;
                    let list = self.top()?;
                    self.append(list, &items)?;
                }
                b'}' => self.push(Obj::Dict(Vec::new())),
                b'd' => {
                    let items = self.pop_mark()?;
                    let dict = self.objects.len();
                    self.push(Obj::Dict(Vec::new()));
                    self.set_items(dict, &items)?;
                }
                b's' => {
                    let value = self.pop()?;
                    let key = self.pop()?;
                    let dict = self.top()?;
                    self.set_items(dict, &[key, value])?;
                }
                b'u' => {
                    let items = self.pop_mark()?;
                    let dict = self.top()?;
                    self.set_items(dict, &items)?;
                }
                b')' => self.push(Obj::Tuple(Vec::new())),
                b't' => {
                    let items = self.pop_mark()?;
                    self.push(Obj::Tuple(items));
                }
                0x85..=0x87 => {
                    let n = usize::from(op - 0x84);
                    let mut items = Vec::with_capacity(n);
                    for _ in 0..n {
                        items.push(self.pop()?);
                    }
                    items.reverse();
                    self.push(Obj::Tuple(items));
                }
                0x94 => {
                    let key = u32::try_from(self.memo.len())
                        .map_err(|_| PickleError::Malformed("memo too large"))?;
                    self.memo_put(key)?;
                }
                b'q' => {
                    let key = self.byte()?.into();
                    self.memo_put(key)?;
                }
                b'r' => {
                    let key = u32::from_le_bytes(self.le::<4>()?);
                    self.memo_put(key)?;
                }
                b'h' => {
                    let key = self.byte()?.into();
                    self.memo_get(key)?;
                }
                b'j' => {
                    let key = u32::from_le_bytes(self.le::<4>()?);
                    self.memo_get(key)?;
                }
                b'c' => {
                    let module = self.line()?;
                    let name = self.line()?;
                    self.push(Obj::Global(Global::find(&module, &name)?));
                }
                0x93 => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    let (Obj::Str(module), Obj::Str(name)) =
                        (&self.objects[module], &self.objects[name])
                    else {
                        return Err(PickleError::Malformed("STACK_GLOBAL without two strs"));
                    };
                    let global = Global::find(module, name)?;
                    self.push(Obj::Global(global));
                }
                b'R' => {
                    let args = self.pop()?;
                    let callable = self.pop()?;
                    let result = self.reduce(callable, args)?;
                    self.charge(copied_bytes(&result))?;
                    self.push(result);
                }
                other => return Err(PickleError::Opcode(other)),
            }
        }
    }

    fn args(&self, tuple: usize) -> Result<Vec<&Obj>, PickleError> {
        match &self.objects[tuple] {
            Obj::Tuple(items) => Ok(items.iter().map(|&i| &self.objects[i]).collect()),
            _ => Err(PickleError::Malformed("REDUCE without an argument tuple")),
        }
    }

    /// Calls a whitelisted constructor the way Python's `__reduce__` of that type expects.
    fn reduce(&self, callable: usize, args: usize) -> Result<Obj, PickleError> {
        let args = self.args(args)?;
        let global = match &self.objects[callable] {
            Obj::Global(g) => *g,
            Obj::ZoneInfoUnpickle => {
                return match args.as_slice() {
                    [Obj::Str(key), Obj::Int(_)] | [Obj::Str(key)] => {
                        Ok(Obj::Tz(TzInfo::Named(key.clone())))
                    }
                    _ => Err(PickleError::BadArguments("ZoneInfo._unpickle")),
                };
            }
            _ => return Err(PickleError::Malformed("REDUCE on something not callable")),
        };
        match (global, args.as_slice()) {
            (Global::Date, [Obj::Bytes(state)]) if state.len() == 4 => {
                let year = i32::from(state[0]) * 256 + i32::from(state[1]);
                date_checked(year, state[2], state[3], "date")
            }
            (Global::Date, [Obj::Int(y), Obj::Int(m), Obj::Int(d)]) => date_checked(
                small(*y, "date")?,
                small(*m, "date")?,
                small(*d, "date")?,
                "date",
            ),
            (Global::DateTime, [Obj::Bytes(state), rest @ ..])
                if state.len() == 10 && rest.len() <= 1 =>
            {
                let tz = match rest {
                    [] => None,
                    [Obj::Tz(tz)] => Some(tz.clone()),
                    _ => return Err(PickleError::BadArguments("datetime")),
                };
                let year = i32::from(state[0]) * 256 + i32::from(state[1]);
                let (month, fold) = (state[2] & 0x7f, state[2] >> 7);
                let Obj::Date(year, month, day) = date_checked(year, month, state[3], "datetime")?
                else {
                    return Err(PickleError::BadArguments("datetime"));
                };
                let microsecond =
                    u32::from(state[7]) << 16 | u32::from(state[8]) << 8 | u32::from(state[9]);
                if state[4] > 23 || state[5] > 59 || state[6] > 59 || microsecond > 999_999 {
                    return Err(PickleError::BadArguments("datetime"));
                }
                Ok(Obj::DateTime(PyDateTime {
                    year,
                    month,
                    day,
                    hour: state[4],
                    minute: state[5],
                    second: state[6],
                    microsecond,
                    fold,
                    tz,
                }))
            }
            (Global::TimeDelta, [Obj::Int(days), Obj::Int(seconds), Obj::Int(micros)]) => {
                // An offset is whole seconds in practice; microseconds are kept in the sum.
                let total = days
                    .checked_mul(86_400_000_000)
                    .and_then(|d| d.checked_add(seconds.checked_mul(1_000_000)?))
                    .and_then(|d| d.checked_add(*micros))
                    .and_then(|t| i64::try_from(t).ok())
                    .ok_or(PickleError::BadArguments("timedelta"))?;
                Ok(Obj::TimeDelta(total))
            }
            (Global::TimeZone, [Obj::TimeDelta(micros), rest @ ..])
                if rest.len() <= 1 && rest.iter().all(|r| matches!(r, Obj::Str(_))) =>
            {
                // Python accepts offsets strictly between -24 h and 24 h.
                if micros.unsigned_abs() >= 86_400_000_000 || micros % 1_000_000 != 0 {
                    return Err(PickleError::BadArguments("timezone"));
                }
                let seconds = i32::try_from(micros / 1_000_000)
                    .map_err(|_| PickleError::BadArguments("timezone"))?;
                Ok(Obj::Tz(TzInfo::Fixed(seconds)))
            }
            (Global::Decimal, [Obj::Str(text)]) => Ok(Obj::Decimal(text.clone())),
            (Global::ZoneInfo, [Obj::Str(key)]) => Ok(Obj::Tz(TzInfo::Named(key.clone()))),
            (Global::GetAttr, [Obj::Global(Global::ZoneInfo), Obj::Str(name)])
                if name == "_unpickle" =>
            {
                Ok(Obj::ZoneInfoUnpickle)
            }
            (Global::GetAttr, _) => Err(PickleError::Global(
                "builtins.getattr (other than ZoneInfo._unpickle)".to_owned(),
            )),
            (Global::PytzUtc, []) => Ok(Obj::Tz(TzInfo::Fixed(0))),
            // pytz._p(zone, utcoffset, dstoffset, tzname): the zone at one of its offsets.
            (Global::PytzP, [Obj::Str(_), Obj::Int(offset), ..]) => {
                let seconds = i32::try_from(*offset)
                    .ok()
                    .filter(|s| s.unsigned_abs() < 86_400)
                    .ok_or(PickleError::BadArguments("pytz._p"))?;
                Ok(Obj::Tz(TzInfo::Fixed(seconds)))
            }
            (Global::PytzP, [Obj::Str(zone)]) => Ok(Obj::Tz(TzInfo::Named(zone.clone()))),
            (Global::Date, _) => Err(PickleError::BadArguments("date")),
            (Global::DateTime, _) => Err(PickleError::BadArguments("datetime")),
            (Global::TimeDelta, _) => Err(PickleError::BadArguments("timedelta")),
            (Global::TimeZone, _) => Err(PickleError::BadArguments("timezone")),
            (Global::Decimal, _) => Err(PickleError::BadArguments("Decimal")),
            (Global::ZoneInfo, _) => Err(PickleError::BadArguments("ZoneInfo")),
            (Global::PytzUtc | Global::PytzP, _) => Err(PickleError::BadArguments("pytz")),
        }
    }

    fn materialize(
        &self,
        index: usize,
        depth: usize,
        budget: &mut usize,
    ) -> Result<PyValue, PickleError> {
        if depth > MAX_DEPTH {
            return Err(PickleError::TooLarge);
        }
        *budget = budget
            .checked_sub(copied_bytes(&self.objects[index]).saturating_add(1))
            .ok_or(PickleError::TooLarge)?;
        Ok(match &self.objects[index] {
            Obj::None => PyValue::None,
            Obj::Bool(v) => PyValue::Bool(*v),
            Obj::Int(v) => PyValue::Int(*v),
            Obj::Float(v) => PyValue::Float(*v),
            Obj::Str(v) => PyValue::Str(v.clone()),
            Obj::Decimal(v) => PyValue::Decimal(v.clone()),
            Obj::Date(y, m, d) => PyValue::Date(*y, *m, *d),
            Obj::DateTime(v) => PyValue::DateTime(v.clone()),
            Obj::List(items) => PyValue::List(
                items
                    .iter()
                    .map(|&i| self.materialize(i, depth + 1, budget))
                    .collect::<Result<_, _>>()?,
            ),
            Obj::Dict(items) => PyValue::Dict(
                items
                    .iter()
                    .map(|&(k, v)| {
                        Ok((
                            self.materialize(k, depth + 1, budget)?,
                            self.materialize(v, depth + 1, budget)?,
                        ))
                    })
                    .collect::<Result<_, PickleError>>()?,
            ),
            Obj::Bytes(_) => return Err(PickleError::Type("bytes")),
            Obj::Tuple(_) => return Err(PickleError::Type("tuple")),
            Obj::TimeDelta(_) => return Err(PickleError::Type("timedelta")),
            Obj::Tz(_) => return Err(PickleError::Type("tzinfo")),
            Obj::Global(_) | Obj::ZoneInfoUnpickle => return Err(PickleError::Type("class")),
        })
    }
}

/// The bytes a value's copy duplicates (its text).
fn copied_bytes(obj: &Obj) -> usize {
    match obj {
        Obj::Str(s) | Obj::Decimal(s) | Obj::Tz(TzInfo::Named(s)) => s.len(),
        Obj::DateTime(PyDateTime {
            tz: Some(TzInfo::Named(s)),
            ..
        }) => s.len(),
        _ => 0,
    }
}

fn small<T: TryFrom<i128>>(v: i128, what: &'static str) -> Result<T, PickleError> {
    T::try_from(v).map_err(|_| PickleError::BadArguments(what))
}

fn date_checked(year: i32, month: u8, day: u8, what: &'static str) -> Result<Obj, PickleError> {
    let valid = (1..=9999).contains(&year)
        && (1..=12).contains(&month)
        && day >= 1
        && day <= days_in_month(year, month);
    if valid {
        Ok(Obj::Date(year, month, day))
    } else {
        Err(PickleError::BadArguments(what))
    }
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Python's `LONG1`/`LONG4` payload: two's complement, little-endian, up to 16 bytes here.
fn int_from_le_signed(bytes: &[u8]) -> Result<i128, PickleError> {
    if bytes.is_empty() {
        return Ok(0);
    }
    if bytes.len() > 16 {
        return Err(PickleError::Type("int wider than 128 bits"));
    }
    let fill = if bytes[bytes.len() - 1] & 0x80 != 0 {
        0xff
    } else {
        0
    };
    let mut wide = [fill; 16];
    wide[..bytes.len()].copy_from_slice(bytes);
    Ok(i128::from_le_bytes(wide))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn refuses_what_a_real_unpickler_would_run() {
        // pickle.dumps(os.system) style: a GLOBAL outside the whitelist, in both spellings.
        assert!(matches!(
            unpickle(b"cos\nsystem\n(S'id'\ntR."),
            Err(PickleError::Global(g)) if g == "os.system"
        ));
        assert!(matches!(
            unpickle(b"\x80\x04\x8c\x08builtins\x8c\x04eval\x93."),
            Err(PickleError::Global(_))
        ));
        // getattr on anything but ZoneInfo._unpickle.
        assert!(matches!(
            unpickle(b"\x80\x04\x8c\x08builtins\x8c\x07getattr\x93\x8c\x08datetime\x8c\x04date\x93\x8c\x05today\x86R."),
            Err(PickleError::Global(_))
        ));
        // BUILD, INST, OBJ, PERSID: not run.
        assert_eq!(unpickle(b"\x80\x04N}b."), Err(PickleError::Opcode(b'b')));
        assert_eq!(unpickle(b"\x80\x04P1\n."), Err(PickleError::Opcode(b'P')));
        // A tuple or bytes as the value.
        assert_eq!(
            unpickle(b"\x80\x04K\x01\x85."),
            Err(PickleError::Type("tuple"))
        );
        assert_eq!(
            unpickle(b"\x80\x04C\x01a."),
            Err(PickleError::Type("bytes"))
        );
        assert_eq!(unpickle(b"\x80\x04K\x01"), Err(PickleError::Truncated));
        assert_eq!(unpickle(b"\x80\x04K\x01.x"), Err(PickleError::Trailing));
        assert_eq!(
            unpickle(b"\x80\x04X\xff\xff\xff\xff."),
            Err(PickleError::Truncated)
        );
    }

    #[test]
    fn shared_references_are_bounded() {
        // A list holding itself: a cycle.
        assert_eq!(
            unpickle(b"\x80\x04]\x94h\x00a."),
            Err(PickleError::TooLarge)
        );
        // Doubling: level k is a list holding level k-1 twice, so 2^40 leaves from 40 lists.
        let mut bomb = b"\x80\x04]\x94".to_vec();
        for k in 1..=40_u8 {
            bomb.extend_from_slice(&[b']', b'(', b'h', k - 1, b'h', k - 1, b'e', 0x94]);
        }
        bomb.push(b'.');
        assert_eq!(unpickle(&bomb), Err(PickleError::TooLarge));
    }

    #[test]
    fn copies_of_a_large_string_are_bounded() {
        // One 60 kB str, memoised, then the same Decimal(str) built 10,000 times: 600 MB of
        // copies from a 130 kB pickle.
        let mut bomb = b"\x80\x04\x8c\x07decimal\x8c\x07Decimal\x93\x94X".to_vec();
        bomb.extend_from_slice(&60_000_u32.to_le_bytes());
        bomb.extend(std::iter::repeat_n(b'1', 60_000));
        bomb.extend_from_slice(b"\x94");
        for _ in 0..10_000 {
            bomb.extend_from_slice(b"h\x00h\x01\x85R0");
        }
        bomb.extend_from_slice(b"N.");
        assert_eq!(unpickle(&bomb), Err(PickleError::TooLarge));
        // Out-of-range offsets are refused, not a panic (debug builds check overflow).
        let min = i64::MIN.to_le_bytes();
        let mut td = b"\x80\x04\x8c\x08datetime\x8c\x08timezone\x93\x8c\x08datetime\x8c\x09timedelta\x93K\x00K\x00\x8a\x08".to_vec();
        td.extend_from_slice(&min);
        td.extend_from_slice(b"\x87R\x85R.");
        assert!(unpickle(&td).is_err());
        assert!(matches!(
            unpickle(b"\x80\x04\x8c\x04pytz\x8c\x02_p\x93\x8c\x01xJ\x00\x00\x00\x80\x86R."),
            Err(PickleError::BadArguments(_))
        ));
    }

    #[test]
    fn long_integers() {
        // 2**63 - 1 and -2**63, as pickle.dumps writes them (LONG1).
        assert_eq!(
            unpickle(b"\x80\x04\x8a\x08\xff\xff\xff\xff\xff\xff\xff\x7f.").unwrap(),
            PyValue::Int(i64::MAX.into())
        );
        assert_eq!(
            unpickle(b"\x80\x04\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x80.").unwrap(),
            PyValue::Int(i64::MIN.into())
        );
        assert_eq!(
            unpickle(b"\x80\x04J\xff\xff\xff\xff.").unwrap(),
            PyValue::Int(-1)
        );
    }
}
