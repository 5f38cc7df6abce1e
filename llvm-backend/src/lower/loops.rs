//! Counted loops in LLVM IR.

use inkwell::builder::BuilderError;
use inkwell::values::IntValue;

use super::Lowerer;

/// The body of a loop nest: gets the index vector of one iteration.
pub(super) type NestBody<'b, S, V> = dyn FnMut(&mut S, &[V]) -> Result<(), BuilderError> + 'b;

impl<'a, 'ctx> Lowerer<'a, 'ctx> {
    /// Emits `for iv in start..end { body(iv) }` at the builder's position; afterwards the builder is positioned
    /// after the loop. `body` may emit nested loops.
    pub fn emit_loop(
        &mut self,
        start: IntValue<'ctx>,
        end: IntValue<'ctx>,
        body: &mut dyn FnMut(&mut Self, IntValue<'ctx>) -> Result<(), BuilderError>,
    ) -> Result<(), BuilderError> {
        self.emit_loop_by(start, end, self.i64(1), body)
    }

    /// Emits `for (iv = start; iv < end; iv += step) { body(iv) }` (`step` positive), as [`Self::emit_loop`].
    pub fn emit_loop_by(
        &mut self,
        start: IntValue<'ctx>,
        end: IntValue<'ctx>,
        step: IntValue<'ctx>,
        body: &mut dyn FnMut(&mut Self, IntValue<'ctx>) -> Result<(), BuilderError>,
    ) -> Result<(), BuilderError> {
        let f = self.current_fn()?;
        let i64t = self.cx.i64_type();
        let pre = self.b.get_insert_block().ok_or(BuilderError::UnsetPosition)?;
        let header = self.cx.append_basic_block(f, "loop");
        let body_bb = self.cx.append_basic_block(f, "body");
        let exit = self.cx.append_basic_block(f, "exit");
        self.b.build_unconditional_branch(header)?;
        self.b.position_at_end(header);
        let phi = self.b.build_phi(i64t, "i")?;
        phi.add_incoming(&[(&start, pre)]);
        let iv = phi.as_basic_value().into_int_value();
        let cond = self.b.build_int_compare(inkwell::IntPredicate::SLT, iv, end, "c")?;
        self.b.build_conditional_branch(cond, body_bb, exit)?;
        self.b.position_at_end(body_bb);
        body(self, iv)?;
        let latch = self.b.get_insert_block().ok_or(BuilderError::UnsetPosition)?;
        let next = self.b.build_int_nsw_add(iv, step, "next")?;
        self.b.build_unconditional_branch(header)?;
        phi.add_incoming(&[(&next, latch)]);
        self.b.position_at_end(exit);
        Ok(())
    }

    /// Emits nested loops over `dims` (outermost first), giving `body` the index vector.
    pub fn emit_nest(
        &mut self,
        dims: &[usize],
        prefix: &mut Vec<IntValue<'ctx>>,
        body: &mut NestBody<'_, Self, IntValue<'ctx>>,
    ) -> Result<(), BuilderError> {
        match dims.split_first() {
            None => body(self, prefix),
            Some((&d, rest)) => {
                let zero = self.i64(0);
                let end = self.i64(d as i64);
                self.emit_loop(zero, end, &mut |s, iv| {
                    prefix.push(iv);
                    let r = s.emit_nest(rest, prefix, body);
                    prefix.pop();
                    r
                })
            }
        }
    }
}
