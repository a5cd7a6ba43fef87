//! Status and identification commands: 0x10, 0x11 (§6.1, §6.2), 0xFC, 0xF7 type 1 and 0x6B
//! (§7.1). The answer layouts of 0x10/0x11 live in [`crate::status`].

use std::time::Duration;

use super::wire::{answer_data, answer_message, put_password, request, request_params, Reader};
use super::{AnswerError, Command, CommandClass, Password, TIMEOUT_STATUS};
use crate::status::{FullStatusAnswer, ShortStatusAnswer};
use crate::text;

/// 0x10: short status (§6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ShortStatus {
    /// Any operator password.
    pub password: Password,
}

impl Command for ShortStatus {
    type Answer = ShortStatusAnswer;
    const CODE: &'static [u8] = &[0x10];

    fn encode(&self) -> Vec<u8> {
        request(Self::CODE, |out| put_password(out, self.password))
    }
    fn decode_answer(msg: &[u8]) -> Result<ShortStatusAnswer, AnswerError> {
        ShortStatusAnswer::decode_data(answer_data(msg, Self::CODE, "10 short status")?)
    }
    fn class(&self) -> CommandClass {
        CommandClass::Read
    }
    fn timeout(&self) -> Duration {
        TIMEOUT_STATUS
    }
    fn name(&self) -> &'static str {
        "10 short status"
    }
    fn decode(msg: &[u8]) -> Result<Self, AnswerError> {
        let mut r = Reader::new(request_params(msg, Self::CODE, "10 short status")?, "10");
        let password = Password(r.u32()?);
        r.finish()?;
        Ok(ShortStatus { password })
    }
    fn encode_answer(answer: &ShortStatusAnswer) -> Vec<u8> {
        answer.encode()
    }
}

/// 0x11: full status, including the KKT clock (§6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FullStatus {
    /// Any operator password.
    pub password: Password,
}

impl Command for FullStatus {
    type Answer = FullStatusAnswer;
    const CODE: &'static [u8] = &[0x11];

    fn encode(&self) -> Vec<u8> {
        request(Self::CODE, |out| put_password(out, self.password))
    }
    fn decode_answer(msg: &[u8]) -> Result<FullStatusAnswer, AnswerError> {
        FullStatusAnswer::decode_data(answer_data(msg, Self::CODE, "11 full status")?)
    }
    fn class(&self) -> CommandClass {
        CommandClass::Read
    }
    fn timeout(&self) -> Duration {
        TIMEOUT_STATUS
    }
    fn name(&self) -> &'static str {
        "11 full status"
    }
    fn decode(msg: &[u8]) -> Result<Self, AnswerError> {
        let mut r = Reader::new(request_params(msg, Self::CODE, "11 full status")?, "11");
        let password = Password(r.u32()?);
        r.finish()?;
        Ok(FullStatus { password })
    }
    fn encode_answer(answer: &FullStatusAnswer) -> Vec<u8> {
        answer.encode()
    }
}

/// 0xFC: device type, no password (§7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DeviceType;

/// Answer data of 0xFC (§7.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeviceTypeAnswer {
    /// Device type (0 = KKT).
    pub device_type: u8,
    /// Subtype.
    pub subtype: u8,
    /// Protocol version.
    pub protocol_version: u8,
    /// Protocol subversion.
    pub protocol_subversion: u8,
    /// Model number (e.g. 250 ШТРИХ-М-01Ф/02Ф).
    pub model: u8,
    /// Language (0 Russian, 1 English, …).
    pub language: u8,
    /// Model name (CP1251, rest of the message; trailing NULs dropped).
    pub name: String,
}

impl Command for DeviceType {
    type Answer = DeviceTypeAnswer;
    const CODE: &'static [u8] = &[0xFC];

    fn encode(&self) -> Vec<u8> {
        Self::CODE.to_vec()
    }
    fn decode_answer(msg: &[u8]) -> Result<DeviceTypeAnswer, AnswerError> {
        let mut r = Reader::new(
            answer_data(msg, Self::CODE, "FC device type")?,
            "FC device type",
        );
        Ok(DeviceTypeAnswer {
            device_type: r.u8()?,
            subtype: r.u8()?,
            protocol_version: r.u8()?,
            protocol_subversion: r.u8()?,
            model: r.u8()?,
            language: r.u8()?,
            name: text::decode_nul_terminated_cp1251(r.rest()),
        })
    }
    fn class(&self) -> CommandClass {
        CommandClass::Read
    }
    fn timeout(&self) -> Duration {
        TIMEOUT_STATUS
    }
    fn name(&self) -> &'static str {
        "FC device type"
    }
    fn decode(msg: &[u8]) -> Result<Self, AnswerError> {
        let r = Reader::new(request_params(msg, Self::CODE, "FC device type")?, "FC");
        r.finish()?;
        Ok(DeviceType)
    }
    fn encode_answer(a: &DeviceTypeAnswer) -> Vec<u8> {
        let mut d = vec![
            a.device_type,
            a.subtype,
            a.protocol_version,
            a.protocol_subversion,
            a.model,
            a.language,
        ];
        d.extend(text::encode_cp1251(&a.name));
        answer_message(Self::CODE, &d)
    }
}

/// 0xF7 request type 1: model parameters, no password (§7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ModelParams;

/// Answer data of 0xF7 type 1 (§7.1). Fields after the maximum command length are optional and
/// kept raw in `tail`, since new fields may be appended.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModelParamsAnswer {
    /// 64-bit model parameter bit field.
    pub bits: u64,
    /// Bytes 8.. up to (not including) the 2-byte maximum command length, raw.
    pub fields: Vec<u8>,
    /// Maximum command length, if the answer is long enough to carry it.
    pub max_command_length: Option<u16>,
    /// Anything after the maximum command length.
    pub tail: Vec<u8>,
}

/// Offset of the maximum command length within the F7 data (§7.1: 8 bytes of bits, 1+1+1+1+1+1+1
/// digits/widths, 4+4 passwords, 1 Bluetooth table, 1 tax field number = 25).
const F7_MAX_LEN_OFFSET: usize = 25;

impl ModelParamsAnswer {
    fn bit(&self, n: u32) -> bool {
        self.bits & (1u64 << n) != 0
    }
    /// Bit 13: cutter present.
    pub fn has_cutter(&self) -> bool {
        self.bit(13)
    }
    /// Bit 28: alternative lower level (protocol 2.0) supported.
    pub fn supports_protocol2(&self) -> bool {
        self.bit(28)
    }
    /// Bit 34: 0x10 carries the last print result.
    pub fn has_last_print_result(&self) -> bool {
        self.bit(34)
    }
    /// Bit 36: 0x6B error text supported.
    pub fn supports_error_text(&self) -> bool {
        self.bit(36)
    }
    /// Bit 50: extended answers of FD-forming commands supported.
    pub fn supports_extended_answers(&self) -> bool {
        self.bit(50)
    }
}

impl Command for ModelParams {
    type Answer = ModelParamsAnswer;
    const CODE: &'static [u8] = &[0xF7];

    fn encode(&self) -> Vec<u8> {
        vec![0xF7, 0x01]
    }
    fn decode_answer(msg: &[u8]) -> Result<ModelParamsAnswer, AnswerError> {
        let name = "F7 model parameters";
        let mut r = Reader::new(answer_data(msg, Self::CODE, name)?, name);
        let bits = r.uint(8)?;
        if r.remaining() < F7_MAX_LEN_OFFSET + 2 - 8 {
            return Ok(ModelParamsAnswer {
                bits,
                fields: r.rest().to_vec(),
                max_command_length: None,
                tail: Vec::new(),
            });
        }
        let fields = r.bytes(F7_MAX_LEN_OFFSET - 8)?.to_vec();
        let max_command_length = Some(r.u16()?);
        Ok(ModelParamsAnswer {
            bits,
            fields,
            max_command_length,
            tail: r.rest().to_vec(),
        })
    }
    fn class(&self) -> CommandClass {
        CommandClass::Read
    }
    fn timeout(&self) -> Duration {
        TIMEOUT_STATUS
    }
    fn name(&self) -> &'static str {
        "F7 model parameters"
    }
    fn decode(msg: &[u8]) -> Result<Self, AnswerError> {
        match msg {
            [0xF7, 0x01] => Ok(ModelParams),
            _ => Err(AnswerError::Malformed(
                "F7 model parameters: expected F7 01".into(),
            )),
        }
    }
    fn encode_answer(a: &ModelParamsAnswer) -> Vec<u8> {
        let mut d = a.bits.to_le_bytes().to_vec();
        d.extend_from_slice(&a.fields);
        if let Some(max) = a.max_command_length {
            d.extend_from_slice(&max.to_le_bytes());
        }
        d.extend_from_slice(&a.tail);
        answer_message(Self::CODE, &d)
    }
}

/// 0x6B: the device's own text for an error code, no password (§7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorText {
    /// The error code to describe.
    pub code: u8,
}

impl Command for ErrorText {
    /// The text, CP1251 decoded, up to the first NUL.
    type Answer = String;
    const CODE: &'static [u8] = &[0x6B];

    fn encode(&self) -> Vec<u8> {
        vec![0x6B, self.code]
    }
    fn decode_answer(msg: &[u8]) -> Result<String, AnswerError> {
        let data = answer_data(msg, Self::CODE, "6B error text")?;
        Ok(text::decode_nul_terminated_cp1251(data))
    }
    fn class(&self) -> CommandClass {
        CommandClass::Read
    }
    fn timeout(&self) -> Duration {
        TIMEOUT_STATUS
    }
    fn name(&self) -> &'static str {
        "6B error text"
    }
    fn decode(msg: &[u8]) -> Result<Self, AnswerError> {
        let mut r = Reader::new(request_params(msg, Self::CODE, "6B error text")?, "6B");
        let code = r.u8()?;
        r.finish()?;
        Ok(ErrorText { code })
    }
    fn encode_answer(answer: &String) -> Vec<u8> {
        answer_message(Self::CODE, &text::encode_cp1251(answer))
    }
}
