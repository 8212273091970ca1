import { Component } from '@angular/core';

@Component({
  selector: 'lib-realtime',
  imports: [],
  template: `
    <p>
      realtime works!
    </p>
  `,
  styles: ``,
})
export class Realtime {

}
