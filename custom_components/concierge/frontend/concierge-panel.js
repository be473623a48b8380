var pt=globalThis,gt=pt.ShadowRoot&&(pt.ShadyCSS===void 0||pt.ShadyCSS.nativeShadow)&&"adoptedStyleSheets"in Document.prototype&&"replace"in CSSStyleSheet.prototype,kt=Symbol(),Ft=new WeakMap,nt=class{constructor(t,e,i){if(this._$cssResult$=!0,i!==kt)throw Error("CSSResult is not constructable. Use `unsafeCSS` or `css` instead.");this.cssText=t,this.t=e}get styleSheet(){let t=this.o,e=this.t;if(gt&&t===void 0){let i=e!==void 0&&e.length===1;i&&(t=Ft.get(e)),t===void 0&&((this.o=t=new CSSStyleSheet).replaceSync(this.cssText),i&&Ft.set(e,t))}return t}toString(){return this.cssText}},qt=r=>new nt(typeof r=="string"?r:r+"",void 0,kt),R=(r,...t)=>{let e=r.length===1?r[0]:t.reduce((i,s,n)=>i+(o=>{if(o._$cssResult$===!0)return o.cssText;if(typeof o=="number")return o;throw Error("Value passed to 'css' function must be a 'css' function result: "+o+". Use 'unsafeCSS' to pass non-literal values, but take care to ensure page security.")})(s)+r[n+1],r[0]);return new nt(e,r,kt)},Zt=(r,t)=>{if(gt)r.adoptedStyleSheets=t.map(e=>e instanceof CSSStyleSheet?e:e.styleSheet);else for(let e of t){let i=document.createElement("style"),s=pt.litNonce;s!==void 0&&i.setAttribute("nonce",s),i.textContent=e.cssText,r.appendChild(i)}},At=gt?r=>r:r=>r instanceof CSSStyleSheet?(t=>{let e="";for(let i of t.cssRules)e+=i.cssText;return qt(e)})(r):r;var{is:be,defineProperty:ye,getOwnPropertyDescriptor:$e,getOwnPropertyNames:we,getOwnPropertySymbols:ve,getPrototypeOf:xe}=Object,mt=globalThis,Vt=mt.trustedTypes,ke=Vt?Vt.emptyScript:"",Ae=mt.reactiveElementPolyfillSupport,rt=(r,t)=>r,Et={toAttribute(r,t){switch(t){case Boolean:r=r?ke:null;break;case Object:case Array:r=r==null?r:JSON.stringify(r)}return r},fromAttribute(r,t){let e=r;switch(t){case Boolean:e=r!==null;break;case Number:e=r===null?null:Number(r);break;case Object:case Array:try{e=JSON.parse(r)}catch{e=null}}return e}},Jt=(r,t)=>!be(r,t),Yt={attribute:!0,type:String,converter:Et,reflect:!1,useDefault:!1,hasChanged:Jt};Symbol.metadata??=Symbol("metadata"),mt.litPropertyMetadata??=new WeakMap;var H=class extends HTMLElement{static addInitializer(t){this._$Ei(),(this.l??=[]).push(t)}static get observedAttributes(){return this.finalize(),this._$Eh&&[...this._$Eh.keys()]}static createProperty(t,e=Yt){if(e.state&&(e.attribute=!1),this._$Ei(),this.prototype.hasOwnProperty(t)&&((e=Object.create(e)).wrapped=!0),this.elementProperties.set(t,e),!e.noAccessor){let i=Symbol(),s=this.getPropertyDescriptor(t,i,e);s!==void 0&&ye(this.prototype,t,s)}}static getPropertyDescriptor(t,e,i){let{get:s,set:n}=$e(this.prototype,t)??{get(){return this[e]},set(o){this[e]=o}};return{get:s,set(o){let a=s?.call(this);n?.call(this,o),this.requestUpdate(t,a,i)},configurable:!0,enumerable:!0}}static getPropertyOptions(t){return this.elementProperties.get(t)??Yt}static _$Ei(){if(this.hasOwnProperty(rt("elementProperties")))return;let t=xe(this);t.finalize(),t.l!==void 0&&(this.l=[...t.l]),this.elementProperties=new Map(t.elementProperties)}static finalize(){if(this.hasOwnProperty(rt("finalized")))return;if(this.finalized=!0,this._$Ei(),this.hasOwnProperty(rt("properties"))){let e=this.properties,i=[...we(e),...ve(e)];for(let s of i)this.createProperty(s,e[s])}let t=this[Symbol.metadata];if(t!==null){let e=litPropertyMetadata.get(t);if(e!==void 0)for(let[i,s]of e)this.elementProperties.set(i,s)}this._$Eh=new Map;for(let[e,i]of this.elementProperties){let s=this._$Eu(e,i);s!==void 0&&this._$Eh.set(s,e)}this.elementStyles=this.finalizeStyles(this.styles)}static finalizeStyles(t){let e=[];if(Array.isArray(t)){let i=new Set(t.flat(1/0).reverse());for(let s of i)e.unshift(At(s))}else t!==void 0&&e.push(At(t));return e}static _$Eu(t,e){let i=e.attribute;return i===!1?void 0:typeof i=="string"?i:typeof t=="string"?t.toLowerCase():void 0}constructor(){super(),this._$Ep=void 0,this.isUpdatePending=!1,this.hasUpdated=!1,this._$Em=null,this._$Ev()}_$Ev(){this._$ES=new Promise(t=>this.enableUpdating=t),this._$AL=new Map,this._$E_(),this.requestUpdate(),this.constructor.l?.forEach(t=>t(this))}addController(t){(this._$EO??=new Set).add(t),this.renderRoot!==void 0&&this.isConnected&&t.hostConnected?.()}removeController(t){this._$EO?.delete(t)}_$E_(){let t=new Map,e=this.constructor.elementProperties;for(let i of e.keys())this.hasOwnProperty(i)&&(t.set(i,this[i]),delete this[i]);t.size>0&&(this._$Ep=t)}createRenderRoot(){let t=this.shadowRoot??this.attachShadow(this.constructor.shadowRootOptions);return Zt(t,this.constructor.elementStyles),t}connectedCallback(){this.renderRoot??=this.createRenderRoot(),this.enableUpdating(!0),this._$EO?.forEach(t=>t.hostConnected?.())}enableUpdating(t){}disconnectedCallback(){this._$EO?.forEach(t=>t.hostDisconnected?.())}attributeChangedCallback(t,e,i){this._$AK(t,i)}_$ET(t,e){let i=this.constructor.elementProperties.get(t),s=this.constructor._$Eu(t,i);if(s!==void 0&&i.reflect===!0){let n=(i.converter?.toAttribute!==void 0?i.converter:Et).toAttribute(e,i.type);this._$Em=t,n==null?this.removeAttribute(s):this.setAttribute(s,n),this._$Em=null}}_$AK(t,e){let i=this.constructor,s=i._$Eh.get(t);if(s!==void 0&&this._$Em!==s){let n=i.getPropertyOptions(s),o=typeof n.converter=="function"?{fromAttribute:n.converter}:n.converter?.fromAttribute!==void 0?n.converter:Et;this._$Em=s;let a=o.fromAttribute(e,n.type);this[s]=a??this._$Ej?.get(s)??a,this._$Em=null}}requestUpdate(t,e,i,s=!1,n){if(t!==void 0){let o=this.constructor;if(s===!1&&(n=this[t]),i??=o.getPropertyOptions(t),!((i.hasChanged??Jt)(n,e)||i.useDefault&&i.reflect&&n===this._$Ej?.get(t)&&!this.hasAttribute(o._$Eu(t,i))))return;this.C(t,e,i)}this.isUpdatePending===!1&&(this._$ES=this._$EP())}C(t,e,{useDefault:i,reflect:s,wrapped:n},o){i&&!(this._$Ej??=new Map).has(t)&&(this._$Ej.set(t,o??e??this[t]),n!==!0||o!==void 0)||(this._$AL.has(t)||(this.hasUpdated||i||(e=void 0),this._$AL.set(t,e)),s===!0&&this._$Em!==t&&(this._$Eq??=new Set).add(t))}async _$EP(){this.isUpdatePending=!0;try{await this._$ES}catch(e){Promise.reject(e)}let t=this.scheduleUpdate();return t!=null&&await t,!this.isUpdatePending}scheduleUpdate(){return this.performUpdate()}performUpdate(){if(!this.isUpdatePending)return;if(!this.hasUpdated){if(this.renderRoot??=this.createRenderRoot(),this._$Ep){for(let[s,n]of this._$Ep)this[s]=n;this._$Ep=void 0}let i=this.constructor.elementProperties;if(i.size>0)for(let[s,n]of i){let{wrapped:o}=n,a=this[s];o!==!0||this._$AL.has(s)||a===void 0||this.C(s,void 0,n,a)}}let t=!1,e=this._$AL;try{t=this.shouldUpdate(e),t?(this.willUpdate(e),this._$EO?.forEach(i=>i.hostUpdate?.()),this.update(e)):this._$EM()}catch(i){throw t=!1,this._$EM(),i}t&&this._$AE(e)}willUpdate(t){}_$AE(t){this._$EO?.forEach(e=>e.hostUpdated?.()),this.hasUpdated||(this.hasUpdated=!0,this.firstUpdated(t)),this.updated(t)}_$EM(){this._$AL=new Map,this.isUpdatePending=!1}get updateComplete(){return this.getUpdateComplete()}getUpdateComplete(){return this._$ES}shouldUpdate(t){return!0}update(t){this._$Eq&&=this._$Eq.forEach(e=>this._$ET(e,this[e])),this._$EM()}updated(t){}firstUpdated(t){}};H.elementStyles=[],H.shadowRootOptions={mode:"open"},H[rt("elementProperties")]=new Map,H[rt("finalized")]=new Map,Ae?.({ReactiveElement:H}),(mt.reactiveElementVersions??=[]).push("2.1.2");var Bt=globalThis,Qt=r=>r,bt=Bt.trustedTypes,Xt=bt?bt.createPolicy("lit-html",{createHTML:r=>r}):void 0,re="$lit$",G=`lit$${Math.random().toFixed(9).slice(2)}$`,oe="?"+G,Ee=`<${oe}>`,J=document,at=()=>J.createComment(""),lt=r=>r===null||typeof r!="object"&&typeof r!="function",Dt=Array.isArray,Ce=r=>Dt(r)||typeof r?.[Symbol.iterator]=="function",Ct=`[ 	
\f\r]`,ot=/<(?:(!--|\/[^a-zA-Z])|(\/?[a-zA-Z][^>\s]*)|(\/?$))/g,te=/-->/g,ee=/>/g,V=RegExp(`>|${Ct}(?:([^\\s"'>=/]+)(${Ct}*=${Ct}*(?:[^ 	
\f\r"'\`<>=]|("|')|))|$)`,"g"),ie=/'/g,se=/"/g,ae=/^(?:script|style|textarea|title)$/i,It=r=>(t,...e)=>({_$litType$:r,strings:t,values:e}),y=It(1),Je=It(2),Qe=It(3),Q=Symbol.for("lit-noChange"),x=Symbol.for("lit-nothing"),ne=new WeakMap,Y=J.createTreeWalker(J,129);function le(r,t){if(!Dt(r)||!r.hasOwnProperty("raw"))throw Error("invalid template strings array");return Xt!==void 0?Xt.createHTML(t):t}var Se=(r,t)=>{let e=r.length-1,i=[],s,n=t===2?"<svg>":t===3?"<math>":"",o=ot;for(let a=0;a<e;a++){let l=r[a],p,m,u=-1,g=0;for(;g<l.length&&(o.lastIndex=g,m=o.exec(l),m!==null);)g=o.lastIndex,o===ot?m[1]==="!--"?o=te:m[1]!==void 0?o=ee:m[2]!==void 0?(ae.test(m[2])&&(s=RegExp("</"+m[2],"g")),o=V):m[3]!==void 0&&(o=V):o===V?m[0]===">"?(o=s??ot,u=-1):m[1]===void 0?u=-2:(u=o.lastIndex-m[2].length,p=m[1],o=m[3]===void 0?V:m[3]==='"'?se:ie):o===se||o===ie?o=V:o===te||o===ee?o=ot:(o=V,s=void 0);let v=o===V&&r[a+1].startsWith("/>")?" ":"";n+=o===ot?l+Ee:u>=0?(i.push(p),l.slice(0,u)+re+l.slice(u)+G+v):l+G+(u===-2?a:v)}return[le(r,n+(r[e]||"<?>")+(t===2?"</svg>":t===3?"</math>":"")),i]},ct=class r{constructor({strings:t,_$litType$:e},i){let s;this.parts=[];let n=0,o=0,a=t.length-1,l=this.parts,[p,m]=Se(t,e);if(this.el=r.createElement(p,i),Y.currentNode=this.el.content,e===2||e===3){let u=this.el.content.firstChild;u.replaceWith(...u.childNodes)}for(;(s=Y.nextNode())!==null&&l.length<a;){if(s.nodeType===1){if(s.hasAttributes())for(let u of s.getAttributeNames())if(u.endsWith(re)){let g=m[o++],v=s.getAttribute(u).split(G),T=/([.?@])?(.*)/.exec(g);l.push({type:1,index:n,name:T[2],strings:v,ctor:T[1]==="."?Tt:T[1]==="?"?Nt:T[1]==="@"?Mt:it}),s.removeAttribute(u)}else u.startsWith(G)&&(l.push({type:6,index:n}),s.removeAttribute(u));if(ae.test(s.tagName)){let u=s.textContent.split(G),g=u.length-1;if(g>0){s.textContent=bt?bt.emptyScript:"";for(let v=0;v<g;v++)s.append(u[v],at()),Y.nextNode(),l.push({type:2,index:++n});s.append(u[g],at())}}}else if(s.nodeType===8)if(s.data===oe)l.push({type:2,index:n});else{let u=-1;for(;(u=s.data.indexOf(G,u+1))!==-1;)l.push({type:7,index:n}),u+=G.length-1}n++}}static createElement(t,e){let i=J.createElement("template");return i.innerHTML=t,i}};function et(r,t,e=r,i){if(t===Q)return t;let s=i!==void 0?e._$Co?.[i]:e._$Cl,n=lt(t)?void 0:t._$litDirective$;return s?.constructor!==n&&(s?._$AO?.(!1),n===void 0?s=void 0:(s=new n(r),s._$AT(r,e,i)),i!==void 0?(e._$Co??=[])[i]=s:e._$Cl=s),s!==void 0&&(t=et(r,s._$AS(r,t.values),s,i)),t}var St=class{constructor(t,e){this._$AV=[],this._$AN=void 0,this._$AD=t,this._$AM=e}get parentNode(){return this._$AM.parentNode}get _$AU(){return this._$AM._$AU}u(t){let{el:{content:e},parts:i}=this._$AD,s=(t?.creationScope??J).importNode(e,!0);Y.currentNode=s;let n=Y.nextNode(),o=0,a=0,l=i[0];for(;l!==void 0;){if(o===l.index){let p;l.type===2?p=new dt(n,n.nextSibling,this,t):l.type===1?p=new l.ctor(n,l.name,l.strings,this,t):l.type===6&&(p=new Pt(n,this,t)),this._$AV.push(p),l=i[++a]}o!==l?.index&&(n=Y.nextNode(),o++)}return Y.currentNode=J,s}p(t){let e=0;for(let i of this._$AV)i!==void 0&&(i.strings!==void 0?(i._$AI(t,i,e),e+=i.strings.length-2):i._$AI(t[e])),e++}},dt=class r{get _$AU(){return this._$AM?._$AU??this._$Cv}constructor(t,e,i,s){this.type=2,this._$AH=x,this._$AN=void 0,this._$AA=t,this._$AB=e,this._$AM=i,this.options=s,this._$Cv=s?.isConnected??!0}get parentNode(){let t=this._$AA.parentNode,e=this._$AM;return e!==void 0&&t?.nodeType===11&&(t=e.parentNode),t}get startNode(){return this._$AA}get endNode(){return this._$AB}_$AI(t,e=this){t=et(this,t,e),lt(t)?t===x||t==null||t===""?(this._$AH!==x&&this._$AR(),this._$AH=x):t!==this._$AH&&t!==Q&&this._(t):t._$litType$!==void 0?this.$(t):t.nodeType!==void 0?this.T(t):Ce(t)?this.k(t):this._(t)}O(t){return this._$AA.parentNode.insertBefore(t,this._$AB)}T(t){this._$AH!==t&&(this._$AR(),this._$AH=this.O(t))}_(t){this._$AH!==x&&lt(this._$AH)?this._$AA.nextSibling.data=t:this.T(J.createTextNode(t)),this._$AH=t}$(t){let{values:e,_$litType$:i}=t,s=typeof i=="number"?this._$AC(t):(i.el===void 0&&(i.el=ct.createElement(le(i.h,i.h[0]),this.options)),i);if(this._$AH?._$AD===s)this._$AH.p(e);else{let n=new St(s,this),o=n.u(this.options);n.p(e),this.T(o),this._$AH=n}}_$AC(t){let e=ne.get(t.strings);return e===void 0&&ne.set(t.strings,e=new ct(t)),e}k(t){Dt(this._$AH)||(this._$AH=[],this._$AR());let e=this._$AH,i,s=0;for(let n of t)s===e.length?e.push(i=new r(this.O(at()),this.O(at()),this,this.options)):i=e[s],i._$AI(n),s++;s<e.length&&(this._$AR(i&&i._$AB.nextSibling,s),e.length=s)}_$AR(t=this._$AA.nextSibling,e){for(this._$AP?.(!1,!0,e);t!==this._$AB;){let i=Qt(t).nextSibling;Qt(t).remove(),t=i}}setConnected(t){this._$AM===void 0&&(this._$Cv=t,this._$AP?.(t))}},it=class{get tagName(){return this.element.tagName}get _$AU(){return this._$AM._$AU}constructor(t,e,i,s,n){this.type=1,this._$AH=x,this._$AN=void 0,this.element=t,this.name=e,this._$AM=s,this.options=n,i.length>2||i[0]!==""||i[1]!==""?(this._$AH=Array(i.length-1).fill(new String),this.strings=i):this._$AH=x}_$AI(t,e=this,i,s){let n=this.strings,o=!1;if(n===void 0)t=et(this,t,e,0),o=!lt(t)||t!==this._$AH&&t!==Q,o&&(this._$AH=t);else{let a=t,l,p;for(t=n[0],l=0;l<n.length-1;l++)p=et(this,a[i+l],e,l),p===Q&&(p=this._$AH[l]),o||=!lt(p)||p!==this._$AH[l],p===x?t=x:t!==x&&(t+=(p??"")+n[l+1]),this._$AH[l]=p}o&&!s&&this.j(t)}j(t){t===x?this.element.removeAttribute(this.name):this.element.setAttribute(this.name,t??"")}},Tt=class extends it{constructor(){super(...arguments),this.type=3}j(t){this.element[this.name]=t===x?void 0:t}},Nt=class extends it{constructor(){super(...arguments),this.type=4}j(t){this.element.toggleAttribute(this.name,!!t&&t!==x)}},Mt=class extends it{constructor(t,e,i,s,n){super(t,e,i,s,n),this.type=5}_$AI(t,e=this){if((t=et(this,t,e,0)??x)===Q)return;let i=this._$AH,s=t===x&&i!==x||t.capture!==i.capture||t.once!==i.once||t.passive!==i.passive,n=t!==x&&(i===x||s);s&&this.element.removeEventListener(this.name,this,i),n&&this.element.addEventListener(this.name,this,t),this._$AH=t}handleEvent(t){typeof this._$AH=="function"?this._$AH.call(this.options?.host??this.element,t):this._$AH.handleEvent(t)}},Pt=class{constructor(t,e,i){this.element=t,this.type=6,this._$AN=void 0,this._$AM=e,this.options=i}get _$AU(){return this._$AM._$AU}_$AI(t){et(this,t)}};var Te=Bt.litHtmlPolyfillSupport;Te?.(ct,dt),(Bt.litHtmlVersions??=[]).push("3.3.3");var ce=(r,t,e)=>{let i=e?.renderBefore??t,s=i._$litPart$;if(s===void 0){let n=e?.renderBefore??null;i._$litPart$=s=new dt(t.insertBefore(at(),n),n,void 0,e??{})}return s._$AI(r),s};var Lt=globalThis,P=class extends H{constructor(){super(...arguments),this.renderOptions={host:this},this._$Do=void 0}createRenderRoot(){let t=super.createRenderRoot();return this.renderOptions.renderBefore??=t.firstChild,t}update(t){let e=this.render();this.hasUpdated||(this.renderOptions.isConnected=this.isConnected),super.update(t),this._$Do=ce(e,this.renderRoot,this.renderOptions)}connectedCallback(){super.connectedCallback(),this._$Do?.setConnected(!0)}disconnectedCallback(){super.disconnectedCallback(),this._$Do?.setConnected(!1)}render(){return Q}};P._$litElement$=!0,P.finalized=!0,Lt.litElementHydrateSupport?.({LitElement:P});var Ne=Lt.litElementPolyfillSupport;Ne?.({LitElement:P});(Lt.litElementVersions??=[]).push("4.2.2");var O={sites:r=>r.callWS({type:"concierge/sites"}),subscribeGrants:(r,t,e)=>r.connection.subscribeMessage(e,{type:"concierge/grants/subscribe",site_id:t}),createGrant:(r,t,e)=>r.callWS({type:"concierge/grants/create",site_id:t,...e}),updateGrant:(r,t,e,i)=>r.callWS({type:"concierge/grants/update",site_id:t,grant_id:e,...i}),checkGrant:(r,t,e)=>r.callWS({type:"concierge/grants/check",site_id:t,...e}),grantAction:(r,t,e,i)=>r.callWS({type:`concierge/grants/${e}`,site_id:t,grant_id:i}),createGuestLink:(r,t,e)=>r.callWS({type:"concierge/guest_links/create",site_id:t,grant_id:e}),visits:(r,t,e=50)=>r.callWS({type:"concierge/visits/list",site_id:t,limit:e})};function j(r){return r?typeof r=="string"?r:r.message||r.code||String(r):""}var yt={title:"Access",tab_grants:"Grants",tab_visits:"Visits",site:"Site",no_sites:"No Concierge home is set up yet.",search:"Search",new_grant:"New grant",loading:"Loading…",no_grants:"No grants yet.",no_match:"No grant matches the search.",col_label:"Label",col_kind:"Kind",col_doors:"Doors",col_window:"Window",col_state:"State",col_uses:"Uses",col_codes:"PIN on the locks",col_actions:"Actions",now_until:"now, until {end}",next:"next {start} – {end}",no_window:"no window ahead",weekly_every:"every {days}, {start}–{end}",kind_courier:"Courier",kind_cleaner:"Cleaner",kind_sitter:"Sitter",kind_guest:"Guest",kind_other:"Other",state_scheduled:"Scheduled",state_active:"Active",state_suspended:"Suspended",state_expired:"Expired",state_revoked:"Revoked",state_used_up:"Used up",code_programmed:"on the lock",code_pending:"pending",code_rejected:"rejected",code_no_free_slot:"no free slot",code_not_removed:"not removed",code_no_keypad:"not a keypad",edit:"Edit",suspend:"Suspend",resume:"Resume",revoke:"Revoke",guest_link:"Guest link",cancel:"Cancel",save:"Save",close:"Close",confirm:"Confirm",continue_anyway:"Save anyway",confirm_suspend:"Suspend “{label}”? Its PIN and links stop working until you resume it.",confirm_resume:"Resume “{label}”?",confirm_revoke:"Revoke “{label}” for good? This cannot be undone.",dialog_new:"New grant",dialog_edit:"Edit “{label}”",f_label:"Label",f_kind:"Kind",f_doors:"Doors",f_window:"When",f_one_off:"Once",f_weekly:"Every week",f_start:"From",f_end:"Until",f_weekdays:"Days",f_start_time:"From (time)",f_end_time:"Until (time)",f_valid_from:"First day (optional)",f_valid_until:"Last day (optional)",f_max_uses:"Maximum uses (optional)",f_max_visit:"Longest visit in minutes (optional)",f_pin:"PIN",f_pin_none:"No PIN",f_pin_typed:"Type a PIN",f_pin_generate:"Generate a PIN",f_pin_keep:"Keep the current PIN",f_pin_value:"PIN (4–10 digits)",f_remote_token:"Courier entry (signed courier tokens)",f_carriers:"Carriers",f_guest_link:"Allow guest links",f_alarm:"Alarm",alarm_disarm_for_visit:"Disarm for the visit",alarm_leave_alone:"Leave alone",f_require_camera:"Require a working camera",f_refuse_pets:"Refuse while pets are home",f_notify:"Notify me of visits",wd_mon:"Mon",wd_tue:"Tue",wd_wed:"Wed",wd_thu:"Thu",wd_fri:"Fri",wd_sat:"Sat",wd_sun:"Sun",err_label:"Give the grant a label.",err_doors:"Choose at least one door.",err_window:"Choose when the grant is open.",err_weekdays:"Choose at least one day.",err_pin:"A PIN has 4 to 10 digits.",warn_no_keypad:"The lock of {door} has no keypad: the PIN cannot open it.",outcome_requested:"requested",outcome_authorized:"admitted",outcome_denied:"denied",outcome_in_progress:"in progress",outcome_completed:"completed",outcome_aborted:"aborted",warnings_title:"Check before saving",pin_title:"The new PIN",pin_once:"This PIN is shown only now. Note it or pass it on.",copy:"Copy",copied:"Copied",share:"Share",link_title:"Guest link for “{label}”",link_expires:"Valid until {when}",link_scan:"Scan with a phone to open the guest page.",link_share_text:"Your guest link for {label}",no_visits:"No visits yet.",v_who:"Who",v_door:"Door",v_when:"When",v_outcome:"Outcome",v_evidence:"Evidence",running:"in progress",error:"Something went wrong: {message}",language:"Language"},Me={title:"Zugang",tab_grants:"Berechtigungen",tab_visits:"Besuche",site:"Ort",no_sites:"Es ist noch kein Concierge-Zuhause eingerichtet.",search:"Suchen",new_grant:"Neue Berechtigung",loading:"Wird geladen …",no_grants:"Noch keine Berechtigungen.",no_match:"Keine Berechtigung passt zur Suche.",col_label:"Name",col_kind:"Art",col_doors:"Türen",col_window:"Zeitfenster",col_state:"Status",col_uses:"Nutzungen",col_codes:"PIN an den Schlössern",col_actions:"Aktionen",now_until:"jetzt, bis {end}",next:"nächstes {start} – {end}",no_window:"kein Zeitfenster mehr",weekly_every:"jeden {days}, {start}–{end}",kind_courier:"Kurier",kind_cleaner:"Reinigung",kind_sitter:"Betreuung",kind_guest:"Gast",kind_other:"Sonstige",state_scheduled:"Geplant",state_active:"Aktiv",state_suspended:"Ausgesetzt",state_expired:"Abgelaufen",state_revoked:"Widerrufen",state_used_up:"Aufgebraucht",code_programmed:"im Schloss",code_pending:"ausstehend",code_rejected:"abgelehnt",code_no_free_slot:"kein freier Platz",code_not_removed:"nicht entfernt",code_no_keypad:"kein Tastenfeld",edit:"Bearbeiten",suspend:"Aussetzen",resume:"Fortsetzen",revoke:"Widerrufen",guest_link:"Gastlink",cancel:"Abbrechen",save:"Speichern",close:"Schließen",confirm:"Bestätigen",continue_anyway:"Trotzdem speichern",confirm_suspend:"„{label}“ aussetzen? PIN und Links gelten erst wieder nach dem Fortsetzen.",confirm_resume:"„{label}“ fortsetzen?",confirm_revoke:"„{label}“ endgültig widerrufen? Das lässt sich nicht rückgängig machen.",dialog_new:"Neue Berechtigung",dialog_edit:"„{label}“ bearbeiten",f_label:"Name",f_kind:"Art",f_doors:"Türen",f_window:"Wann",f_one_off:"Einmalig",f_weekly:"Jede Woche",f_start:"Von",f_end:"Bis",f_weekdays:"Tage",f_start_time:"Von (Uhrzeit)",f_end_time:"Bis (Uhrzeit)",f_valid_from:"Erster Tag (optional)",f_valid_until:"Letzter Tag (optional)",f_max_uses:"Höchstens so oft (optional)",f_max_visit:"Längster Besuch in Minuten (optional)",f_pin:"PIN",f_pin_none:"Keine PIN",f_pin_typed:"PIN eingeben",f_pin_generate:"PIN erzeugen",f_pin_keep:"Bisherige PIN behalten",f_pin_value:"PIN (4–10 Ziffern)",f_remote_token:"Kurierzugang (signierte Kurier-Tokens)",f_carriers:"Zusteller",f_guest_link:"Gastlinks erlauben",f_alarm:"Alarmanlage",alarm_disarm_for_visit:"Für den Besuch unscharf schalten",alarm_leave_alone:"Nicht verändern",f_require_camera:"Nur mit funktionierender Kamera",f_refuse_pets:"Ablehnen, wenn Haustiere zu Hause sind",f_notify:"Mich über Besuche benachrichtigen",wd_mon:"Mo",wd_tue:"Di",wd_wed:"Mi",wd_thu:"Do",wd_fri:"Fr",wd_sat:"Sa",wd_sun:"So",err_label:"Gib der Berechtigung einen Namen.",err_doors:"Wähle mindestens eine Tür.",err_window:"Wähle, wann die Berechtigung gilt.",err_weekdays:"Wähle mindestens einen Tag.",err_pin:"Eine PIN hat 4 bis 10 Ziffern.",warn_no_keypad:"Das Schloss von {door} hat kein Tastenfeld: Die PIN kann es nicht öffnen.",outcome_requested:"angefragt",outcome_authorized:"eingelassen",outcome_denied:"abgelehnt",outcome_in_progress:"läuft",outcome_completed:"abgeschlossen",outcome_aborted:"abgebrochen",warnings_title:"Vor dem Speichern prüfen",pin_title:"Die neue PIN",pin_once:"Diese PIN wird nur jetzt angezeigt. Notiere sie oder gib sie weiter.",copy:"Kopieren",copied:"Kopiert",share:"Teilen",link_title:"Gastlink für „{label}“",link_expires:"Gültig bis {when}",link_scan:"Mit dem Handy scannen, um die Gastseite zu öffnen.",link_share_text:"Dein Gastlink für {label}",no_visits:"Noch keine Besuche.",v_who:"Wer",v_door:"Tür",v_when:"Wann",v_outcome:"Ergebnis",v_evidence:"Nachweise",running:"läuft",error:"Etwas ist schiefgegangen: {message}",language:"Sprache"},Pe={en:yt,de:Me};function de(r){let t=String(r||"en").toLowerCase().split("-")[0];return Pe[t]||yt}function W(r,t,e={}){return(r[t]??yt[t]??t).replace(/\{(\w+)\}/g,(s,n)=>String(e[n]??""))}function I(r,t,e){let i=`${t}_${e}`;return r[i]??yt[i]??String(e)}var ht=["mon","tue","wed","thu","fri","sat","sun"];function K(r){return{timeZone:(r?.locale?.time_zone==="local"?void 0:r?.config?.time_zone)||void 0,locale:r?.locale?.language||r?.language||"en"}}var he=new Map;function Rt(r,t){let e=`${r.locale}|${r.timeZone}|${JSON.stringify(t)}`,i=he.get(e);return i||(i=new Intl.DateTimeFormat(r.locale,{...t,timeZone:r.timeZone}),he.set(e,i)),i}function X(r,t){if(!t)return"";let e=new Date(t);return Number.isNaN(e.getTime())?String(t):Rt(r,{weekday:"short",day:"numeric",month:"short",hour:"2-digit",minute:"2-digit"}).format(e)}function $t(r,t){return t?Rt(r,{hour:"2-digit",minute:"2-digit"}).format(new Date(t)):""}function Ot(r,t){if(!t)return"";let e=Object.fromEntries(Rt(r,{year:"numeric",month:"2-digit",day:"2-digit",hour:"2-digit",minute:"2-digit",hourCycle:"h23"}).formatToParts(new Date(t)).map(i=>[i.type,i.value]));return`${e.year}-${e.month}-${e.day}T${e.hour}:${e.minute}`}function ut(r,t){if(!t)return null;let[e,i]=t.split("T"),[s,n,o]=e.split("-").map(Number),[a,l]=(i||"00:00").split(":").map(Number),p=Date.UTC(s,n-1,o,a,l),m=p;for(let u=0;u<2;u+=1){let g=Ot(r,new Date(m).toISOString()),[v,T]=g.split("T"),[C,N,L]=v.split("-").map(Number),[D,vt]=T.split(":").map(Number);m+=p-Date.UTC(C,N-1,L,D,vt)}return new Date(m).toISOString()}var z=R`
  :host {
    color: var(--primary-text-color, #212121);
    font-family: var(--ha-font-family-body, var(--paper-font-body1_-_font-family, Roboto, sans-serif));
    font-size: 14px;
  }
  button {
    font: inherit;
    cursor: pointer;
    border-radius: 6px;
    border: 1px solid var(--divider-color, #ccc);
    background: var(--card-background-color, #fff);
    color: var(--primary-color, #03a9f4);
    padding: 6px 12px;
    min-height: 36px;
  }
  button.primary {
    background: var(--primary-color, #03a9f4);
    border-color: var(--primary-color, #03a9f4);
    color: var(--text-primary-color, #fff);
  }
  button.danger {
    color: var(--error-color, #db4437);
  }
  button.danger.primary {
    background: var(--error-color, #db4437);
    border-color: var(--error-color, #db4437);
    color: var(--text-primary-color, #fff);
  }
  button:disabled {
    opacity: 0.5;
    cursor: default;
  }
  input, select {
    font: inherit;
    color: var(--primary-text-color, #212121);
    background: var(--card-background-color, #fff);
    border: 1px solid var(--divider-color, #ccc);
    border-radius: 6px;
    padding: 6px 8px;
    min-height: 36px;
    box-sizing: border-box;
  }
  input[type="checkbox"], input[type="radio"] {
    min-height: auto;
    accent-color: var(--primary-color, #03a9f4);
  }
  .overlay {
    position: fixed;
    inset: 0;
    background: rgba(0, 0, 0, 0.45);
    display: flex;
    align-items: center;
    justify-content: center;
    z-index: 10;
  }
  .dialog {
    background: var(--card-background-color, #fff);
    color: var(--primary-text-color, #212121);
    border-radius: var(--ha-card-border-radius, 12px);
    padding: 16px 20px;
    width: min(560px, calc(100vw - 16px));
    max-height: calc(100vh - 32px);
    overflow: auto;
    box-sizing: border-box;
  }
  .dialog h2 {
    margin: 0 0 12px;
    font-size: 20px;
    font-weight: 500;
  }
  .buttons {
    display: flex;
    gap: 8px;
    justify-content: flex-end;
    flex-wrap: wrap;
    margin-top: 16px;
  }
  .error {
    color: var(--error-color, #db4437);
  }
  .warning {
    color: var(--warning-color, #ffa600);
  }
  .muted {
    color: var(--secondary-text-color, #727272);
  }
`;async function wt(r,t){try{return await navigator.clipboard.writeText(r),!0}catch{return t?(t.select(),document.execCommand?.("copy")??!1):!1}}var Be=["guest","cleaner","sitter","courier","other"],De=["disarm_for_visit","leave_alone"];function Ie(r){let t=r?.window;return{label:r?.label??"",kind:r?.kind??"guest",portals:new Set(r?.portals??[]),windowKind:t?.kind??"weekly",start:t?.kind==="one_off"?t.start:null,end:t?.kind==="one_off"?t.end:null,weekdays:new Set(t?.kind==="weekly"?t.weekdays:[]),start_time:t?.start_time??"09:00",end_time:t?.end_time??"12:00",valid_from:t?.valid_from??null,valid_until:t?.valid_until??null,max_uses:r?.max_uses??"",max_visit_minutes:r?.max_visit_minutes??"",pinMode:r?r.has_pin?"keep":"none":"generate",pin:"",remote_token:r?.remote_token??!1,carriers:new Set(r?.carriers??[]),guest_link:r?.guest_link??!0,alarm:r?.alarm??"disarm_for_visit",require_camera:r?.require_camera??!1,refuse_when_pets_home:r?.refuse_when_pets_home??!1,notify:r?.notify??!0}}var Ut=class extends P{static properties={hass:{attribute:!1},dict:{attribute:!1},site:{attribute:!1},grant:{attribute:!1},_form:{state:!0},_problem:{state:!0},_warnings:{state:!0},_busy:{state:!0},_pin:{state:!0},_copied:{state:!0}};constructor(){super(),this._form=null,this._problem="",this._warnings=null,this._busy=!1,this._pin=null,this._copied=!1}_t(t,e){return W(this.dict,t,e)}willUpdate(t){if(t.has("grant")||this._form===null){let e=K(this.hass),i=Ie(this.grant);for(let s of["start","end","valid_from","valid_until"])i[s]=Ot(e,i[s]);this._form=i}}_set(t,e){this._form={...this._form,[t]:e},this._warnings=null}_toggle(t,e,i){let s=new Set(this._form[t]);i?s.add(e):s.delete(e),this._set(t,s)}_validate(){let t=this._form;return t.label.trim()?t.portals.size?t.windowKind==="one_off"&&(!t.start||!t.end)?this._t("err_window"):t.windowKind==="weekly"&&!t.weekdays.size?this._t("err_weekdays"):t.windowKind==="weekly"&&(!t.start_time||!t.end_time)?this._t("err_window"):t.pinMode==="typed"&&!/^\d{4,10}$/.test(t.pin)?this._t("err_pin"):"":this._t("err_doors"):this._t("err_label")}_fields(){let t=this._form,e=K(this.hass),i={label:t.label.trim(),kind:t.kind,portals:(this.site?.portals??[]).map(s=>s.id).filter(s=>t.portals.has(s)),remote_token:t.remote_token,guest_link:t.guest_link,alarm:t.alarm,require_camera:t.require_camera,refuse_when_pets_home:t.refuse_when_pets_home,notify:t.notify,max_uses:t.max_uses===""?null:Number(t.max_uses),max_visit_minutes:t.max_visit_minutes===""?null:Number(t.max_visit_minutes)};return t.remote_token&&(i.carriers=[...t.carriers]),t.windowKind==="one_off"?(i.start=ut(e,t.start),i.end=ut(e,t.end)):(i.weekdays=ht.filter(s=>t.weekdays.has(s)),i.start_time=t.start_time,i.end_time=t.end_time,t.valid_from&&(i.valid_from=ut(e,t.valid_from)),t.valid_until&&(i.valid_until=ut(e,t.valid_until))),t.pinMode==="typed"?i.pin=t.pin:t.pinMode==="generate"?i.generate_pin=!0:t.pinMode==="none"&&this.grant?.has_pin&&(i.pin=null),i}async _save(t=!1){let e=this._validate();if(this._problem=e,e)return;let i=this._fields(),s=this.site.site_id;this._busy=!0;try{if(!t&&this._form.pinMode!=="none"){let o=(this.site?.portals??[]).filter(a=>!a.has_keypad&&i.portals.includes(a.id)).map(a=>({code:"no_keypad",portal:a.id,message:this._t("warn_no_keypad",{door:a.name})}));if(this._form.pinMode==="typed"){let a={portals:i.portals,pin:this._form.pin};this.grant&&(a.grant_id=this.grant.grant_id);let l=await O.checkGrant(this.hass,s,a);o.push(...l.warnings.filter(p=>p.code!=="no_keypad"))}if(o.length){this._warnings=o;return}}let n=this.grant?await O.updateGrant(this.hass,s,this.grant.grant_id,i):await O.createGrant(this.hass,s,i);n?.pin?this._pin=n.pin:this._close()}catch(n){this._problem=j(n)}finally{this._busy=!1}}_close(){this.dispatchEvent(new CustomEvent("closed",{bubbles:!0,composed:!0}))}async _copyPin(){this._copied=await wt(this._pin,this.renderRoot.querySelector(".pin-value"))}render(){return this._form?y`<div class="overlay">
      <div class="dialog grant-dialog" role="dialog" aria-modal="true">
        ${this._pin?this._renderPin():this._renderForm()}
      </div>
    </div>`:x}_renderPin(){return y`
      <h2>${this._t("pin_title")}</h2>
      <p>${this._t("pin_once")}</p>
      <p class="pin"><input class="pin-value" readonly .value=${this._pin} aria-label=${this._t("pin_title")} />
        <button @click=${this._copyPin}>${this._copied?this._t("copied"):this._t("copy")}</button></p>
      <div class="buttons"><button class="primary" @click=${this._close}>${this._t("close")}</button></div>`}_check(t,e){return y`<label class="check"><input type="checkbox" name=${t} .checked=${this._form[t]}
      @change=${i=>this._set(t,i.target.checked)} /> ${e}</label>`}_renderForm(){let t=this._form,e=this.dict,i=this.site?.portals??[],s=this.site?.carriers??[];return y`
      <h2>${this.grant?this._t("dialog_edit",{label:this.grant.label}):this._t("dialog_new")}</h2>
      <div class="form">
        <label>${this._t("f_label")}<input name="label" .value=${t.label} @input=${n=>this._set("label",n.target.value)} /></label>
        <label>${this._t("f_kind")}<select name="kind" @change=${n=>this._set("kind",n.target.value)}>
          ${Be.map(n=>y`<option value=${n} ?selected=${n===t.kind}>${I(e,"kind",n)}</option>`)}
        </select></label>
        <fieldset><legend>${this._t("f_doors")}</legend>
          ${i.map(n=>y`<label class="check"><input type="checkbox" name="portal" value=${n.id}
            .checked=${t.portals.has(n.id)} @change=${o=>this._toggle("portals",n.id,o.target.checked)} />
            ${n.name}${n.has_keypad?"":y` <span class="muted">(${I(e,"code","no_keypad")})</span>`}</label>`)}
        </fieldset>
        <fieldset><legend>${this._t("f_window")}</legend>
          <div class="row">
            <label class="check"><input type="radio" name="window" value="weekly" .checked=${t.windowKind==="weekly"}
              @change=${()=>this._set("windowKind","weekly")} /> ${this._t("f_weekly")}</label>
            <label class="check"><input type="radio" name="window" value="one_off" .checked=${t.windowKind==="one_off"}
              @change=${()=>this._set("windowKind","one_off")} /> ${this._t("f_one_off")}</label>
          </div>
          ${t.windowKind==="one_off"?y`<div class="row">
                <label>${this._t("f_start")}<input type="datetime-local" name="start" .value=${t.start} @input=${n=>this._set("start",n.target.value)} /></label>
                <label>${this._t("f_end")}<input type="datetime-local" name="end" .value=${t.end} @input=${n=>this._set("end",n.target.value)} /></label>
              </div>`:y`<div class="row weekdays" role="group" aria-label=${this._t("f_weekdays")}>
                ${ht.map(n=>y`<label class="check day"><input type="checkbox" name="weekday" value=${n}
                  .checked=${t.weekdays.has(n)} @change=${o=>this._toggle("weekdays",n,o.target.checked)} /> ${this._t(`wd_${n}`)}</label>`)}
              </div>
              <div class="row">
                <label>${this._t("f_start_time")}<input type="time" name="start_time" .value=${t.start_time} @input=${n=>this._set("start_time",n.target.value)} /></label>
                <label>${this._t("f_end_time")}<input type="time" name="end_time" .value=${t.end_time} @input=${n=>this._set("end_time",n.target.value)} /></label>
              </div>
              <div class="row">
                <label>${this._t("f_valid_from")}<input type="datetime-local" name="valid_from" .value=${t.valid_from} @input=${n=>this._set("valid_from",n.target.value)} /></label>
                <label>${this._t("f_valid_until")}<input type="datetime-local" name="valid_until" .value=${t.valid_until} @input=${n=>this._set("valid_until",n.target.value)} /></label>
              </div>`}
        </fieldset>
        <fieldset><legend>${this._t("f_pin")}</legend>
          <div class="row">
            ${(this.grant?.has_pin?["keep","generate","typed","none"]:["generate","typed","none"]).map(n=>y`<label class="check"><input type="radio" name="pin_mode" value=${n} .checked=${t.pinMode===n}
                @change=${()=>this._set("pinMode",n)} /> ${this._t(`f_pin_${n}`)}</label>`)}
          </div>
          ${t.pinMode==="typed"?y`<label>${this._t("f_pin_value")}<input name="pin" inputmode="numeric" autocomplete="off" .value=${t.pin}
                @input=${n=>this._set("pin",n.target.value)} /></label>`:x}
        </fieldset>
        <fieldset><legend>${this._t("f_alarm")}</legend>
          <select name="alarm" aria-label=${this._t("f_alarm")} @change=${n=>this._set("alarm",n.target.value)}>
            ${De.map(n=>y`<option value=${n} ?selected=${n===t.alarm}>${this._t(`alarm_${n}`)}</option>`)}
          </select>
          ${this._check("require_camera",this._t("f_require_camera"))}
          ${this._check("refuse_when_pets_home",this._t("f_refuse_pets"))}
          ${this._check("notify",this._t("f_notify"))}
          ${this._check("guest_link",this._t("f_guest_link"))}
          ${this._check("remote_token",this._t("f_remote_token"))}
          ${t.remote_token&&s.length?y`<div class="row" role="group" aria-label=${this._t("f_carriers")}>${s.map(n=>y`<label class="check"><input type="checkbox" name="carrier" value=${n.id} .checked=${t.carriers.has(n.id)}
                  @change=${o=>this._toggle("carriers",n.id,o.target.checked)} /> ${n.name}</label>`)}</div>`:x}
          <div class="row">
            <label>${this._t("f_max_uses")}<input type="number" min="1" name="max_uses" .value=${String(t.max_uses)} @input=${n=>this._set("max_uses",n.target.value)} /></label>
            <label>${this._t("f_max_visit")}<input type="number" min="1" max="1440" name="max_visit_minutes" .value=${String(t.max_visit_minutes)} @input=${n=>this._set("max_visit_minutes",n.target.value)} /></label>
          </div>
        </fieldset>
      </div>
      ${this._problem?y`<p class="error" role="alert">${this._problem}</p>`:x}
      ${this._warnings?y`<div class="warnings" role="alert"><strong>${this._t("warnings_title")}</strong>
            <ul>${this._warnings.map(n=>y`<li class="warning">${n.message}</li>`)}</ul></div>`:x}
      <div class="buttons">
        <button @click=${this._close}>${this._t("cancel")}</button>
        ${this._warnings?y`<button class="primary save" ?disabled=${this._busy} @click=${()=>this._save(!0)}>${this._t("continue_anyway")}</button>`:y`<button class="primary save" ?disabled=${this._busy} @click=${()=>this._save(!1)}>${this._t("save")}</button>`}
      </div>`}static styles=[z,R`
      .form {
        display: flex;
        flex-direction: column;
        gap: 10px;
      }
      label {
        display: flex;
        flex-direction: column;
        gap: 4px;
      }
      label.check {
        flex-direction: row;
        align-items: center;
        gap: 6px;
      }
      fieldset {
        border: 1px solid var(--divider-color, #e0e0e0);
        border-radius: 8px;
        display: flex;
        flex-direction: column;
        gap: 8px;
      }
      legend {
        color: var(--secondary-text-color, #727272);
      }
      .row {
        display: flex;
        gap: 10px;
        flex-wrap: wrap;
      }
      .row > label:not(.check) {
        flex: 1 1 180px;
      }
      .day {
        min-width: 56px;
      }
      .pin {
        display: flex;
        gap: 8px;
      }
      .pin-value {
        font-size: 28px;
        letter-spacing: 6px;
        width: 10em;
        font-family: monospace;
      }
    `]};customElements.get("concierge-grant-dialog")||customElements.define("concierge-grant-dialog",Ut);var st=function(r,t){let s=r,n=_t[t],o=null,a=0,l=null,p=[],m={},u=function(d,f){a=s*4+17,o=(function(c){let _=new Array(c);for(let h=0;h<c;h+=1){_[h]=new Array(c);for(let b=0;b<c;b+=1)_[h][b]=null}return _})(a),g(0,0),g(a-7,0),g(0,a-7),C(),T(),L(d,f),s>=7&&N(d),l==null&&(l=ge(s,n,p)),D(l,f)},g=function(d,f){for(let c=-1;c<=7;c+=1)if(!(d+c<=-1||a<=d+c))for(let _=-1;_<=7;_+=1)f+_<=-1||a<=f+_||(0<=c&&c<=6&&(_==0||_==6)||0<=_&&_<=6&&(c==0||c==6)||2<=c&&c<=4&&2<=_&&_<=4?o[d+c][f+_]=!0:o[d+c][f+_]=!1)},v=function(){let d=0,f=0;for(let c=0;c<8;c+=1){u(!0,c);let _=q.getLostPoint(m);(c==0||d>_)&&(d=_,f=c)}return f},T=function(){for(let d=8;d<a-8;d+=1)o[d][6]==null&&(o[d][6]=d%2==0);for(let d=8;d<a-8;d+=1)o[6][d]==null&&(o[6][d]=d%2==0)},C=function(){let d=q.getPatternPosition(s);for(let f=0;f<d.length;f+=1)for(let c=0;c<d.length;c+=1){let _=d[f],h=d[c];if(o[_][h]==null)for(let b=-2;b<=2;b+=1)for(let $=-2;$<=2;$+=1)b==-2||b==2||$==-2||$==2||b==0&&$==0?o[_+b][h+$]=!0:o[_+b][h+$]=!1}},N=function(d){let f=q.getBCHTypeNumber(s);for(let c=0;c<18;c+=1){let _=!d&&(f>>c&1)==1;o[Math.floor(c/3)][c%3+a-8-3]=_}for(let c=0;c<18;c+=1){let _=!d&&(f>>c&1)==1;o[c%3+a-8-3][Math.floor(c/3)]=_}},L=function(d,f){let c=n<<3|f,_=q.getBCHTypeInfo(c);for(let h=0;h<15;h+=1){let b=!d&&(_>>h&1)==1;h<6?o[h][8]=b:h<8?o[h+1][8]=b:o[a-15+h][8]=b}for(let h=0;h<15;h+=1){let b=!d&&(_>>h&1)==1;h<8?o[8][a-h-1]=b:h<9?o[8][15-h-1+1]=b:o[8][15-h-1]=b}o[a-8][8]=!d},D=function(d,f){let c=-1,_=a-1,h=7,b=0,$=q.getMaskFunction(f);for(let k=a-1;k>0;k-=2)for(k==6&&(k-=1);;){for(let A=0;A<2;A+=1)if(o[_][k-A]==null){let S=!1;b<d.length&&(S=(d[b]>>>h&1)==1),$(_,k-A)&&(S=!S),o[_][k-A]=S,h-=1,h==-1&&(b+=1,h=7)}if(_+=c,_<0||a<=_){_-=c,c=-c;break}}},vt=function(d,f){let c=0,_=0,h=0,b=new Array(f.length),$=new Array(f.length);for(let w=0;w<f.length;w+=1){let E=f[w].dataCount,B=f[w].totalCount-E;_=Math.max(_,E),h=Math.max(h,B),b[w]=new Array(E);for(let U=0;U<b[w].length;U+=1)b[w][U]=255&d.getBuffer()[U+c];c+=E;let xt=q.getErrorCorrectPolynomial(B),Wt=ft(b[w],xt.getLength()-1).mod(xt);$[w]=new Array(xt.getLength()-1);for(let U=0;U<$[w].length;U+=1){let zt=U+Wt.getLength()-$[w].length;$[w][U]=zt>=0?Wt.getAt(zt):0}}let k=0;for(let w=0;w<f.length;w+=1)k+=f[w].totalCount;let A=new Array(k),S=0;for(let w=0;w<_;w+=1)for(let E=0;E<f.length;E+=1)w<b[E].length&&(A[S]=b[E][w],S+=1);for(let w=0;w<h;w+=1)for(let E=0;E<f.length;E+=1)w<$[E].length&&(A[S]=$[E][w],S+=1);return A},ge=function(d,f,c){let _=ue.getRSBlocks(d,f),h=_e();for(let $=0;$<c.length;$+=1){let k=c[$];h.put(k.getMode(),4),h.put(k.getLength(),q.getLengthInBits(k.getMode(),d)),k.write(h)}let b=0;for(let $=0;$<_.length;$+=1)b+=_[$].dataCount;if(h.getLengthInBits()>b*8)throw"code length overflow. ("+h.getLengthInBits()+">"+b*8+")";for(h.getLengthInBits()+4<=b*8&&h.put(0,4);h.getLengthInBits()%8!=0;)h.putBit(!1);for(;!(h.getLengthInBits()>=b*8||(h.put(236,8),h.getLengthInBits()>=b*8));)h.put(17,8);return vt(h,_)};m.addData=function(d,f){f=f||"Byte";let c=null;switch(f){case"Numeric":c=Le(d);break;case"Alphanumeric":c=Re(d);break;case"Byte":c=Oe(d);break;case"Kanji":c=Ue(d);break;default:throw"mode:"+f}p.push(c),l=null},m.isDark=function(d,f){if(d<0||a<=d||f<0||a<=f)throw d+","+f;return o[d][f]},m.getModuleCount=function(){return a},m.make=function(){if(s<1){let d=1;for(;d<40;d++){let f=ue.getRSBlocks(d,n),c=_e();for(let h=0;h<p.length;h++){let b=p[h];c.put(b.getMode(),4),c.put(b.getLength(),q.getLengthInBits(b.getMode(),d)),b.write(c)}let _=0;for(let h=0;h<f.length;h++)_+=f[h].dataCount;if(c.getLengthInBits()<=_*8)break}s=d}u(!1,v())},m.createTableTag=function(d,f){d=d||2,f=typeof f>"u"?d*4:f;let c="";c+='<table style="',c+=" border-width: 0px; border-style: none;",c+=" border-collapse: collapse;",c+=" padding: 0px; margin: "+f+"px;",c+='">',c+="<tbody>";for(let _=0;_<m.getModuleCount();_+=1){c+="<tr>";for(let h=0;h<m.getModuleCount();h+=1)c+='<td style="',c+=" border-width: 0px; border-style: none;",c+=" border-collapse: collapse;",c+=" padding: 0px; margin: 0px;",c+=" width: "+d+"px;",c+=" height: "+d+"px;",c+=" background-color: ",c+=m.isDark(_,h)?"#000000":"#ffffff",c+=";",c+='"/>';c+="</tr>"}return c+="</tbody>",c+="</table>",c},m.createSvgTag=function(d,f,c,_){let h={};typeof arguments[0]=="object"&&(h=arguments[0],d=h.cellSize,f=h.margin,c=h.alt,_=h.title),d=d||2,f=typeof f>"u"?d*4:f,c=typeof c=="string"?{text:c}:c||{},c.text=c.text||null,c.id=c.text?c.id||"qrcode-description":null,_=typeof _=="string"?{text:_}:_||{},_.text=_.text||null,_.id=_.text?_.id||"qrcode-title":null;let b=m.getModuleCount()*d+f*2,$,k,A,S,w="",E;for(E="l"+d+",0 0,"+d+" -"+d+",0 0,-"+d+"z ",w+='<svg version="1.1" xmlns="http://www.w3.org/2000/svg"',w+=h.scalable?"":' width="'+b+'px" height="'+b+'px"',w+=' viewBox="0 0 '+b+" "+b+'" ',w+=' preserveAspectRatio="xMinYMin meet"',w+=_.text||c.text?' role="img" aria-labelledby="'+tt([_.id,c.id].join(" ").trim())+'"':"",w+=">",w+=_.text?'<title id="'+tt(_.id)+'">'+tt(_.text)+"</title>":"",w+=c.text?'<description id="'+tt(c.id)+'">'+tt(c.text)+"</description>":"",w+='<rect width="100%" height="100%" fill="white" cx="0" cy="0"/>',w+='<path d="',A=0;A<m.getModuleCount();A+=1)for(S=A*d+f,$=0;$<m.getModuleCount();$+=1)m.isDark(A,$)&&(k=$*d+f,w+="M"+k+","+S+E);return w+='" stroke="transparent" fill="black"/>',w+="</svg>",w},m.createDataURL=function(d,f){d=d||2,f=typeof f>"u"?d*4:f;let c=m.getModuleCount()*d+f*2,_=f,h=c-f;return Ge(c,c,function(b,$){if(_<=b&&b<h&&_<=$&&$<h){let k=Math.floor((b-_)/d),A=Math.floor(($-_)/d);return m.isDark(A,k)?0:1}else return 1})},m.createImgTag=function(d,f,c){d=d||2,f=typeof f>"u"?d*4:f;let _=m.getModuleCount()*d+f*2,h="";return h+="<img",h+=' src="',h+=m.createDataURL(d,f),h+='"',h+=' width="',h+=_,h+='"',h+=' height="',h+=_,h+='"',c&&(h+=' alt="',h+=tt(c),h+='"'),h+="/>",h};let tt=function(d){let f="";for(let c=0;c<d.length;c+=1){let _=d.charAt(c);switch(_){case"<":f+="&lt;";break;case">":f+="&gt;";break;case"&":f+="&amp;";break;case'"':f+="&quot;";break;default:f+=_;break}}return f},me=function(d){d=typeof d>"u"?2:d;let c=m.getModuleCount()*1+d*2,_=d,h=c-d,b,$,k,A,S,w={"██":"█","█ ":"▀"," █":"▄","  ":" "},E={"██":"▀","█ ":"▀"," █":" ","  ":" "},B="";for(b=0;b<c;b+=2){for(k=Math.floor((b-_)/1),A=Math.floor((b+1-_)/1),$=0;$<c;$+=1)S="█",_<=$&&$<h&&_<=b&&b<h&&m.isDark(k,Math.floor(($-_)/1))&&(S=" "),_<=$&&$<h&&_<=b+1&&b+1<h&&m.isDark(A,Math.floor(($-_)/1))?S+=" ":S+="█",B+=d<1&&b+1>=h?E[S]:w[S];B+=`
`}return c%2&&d>0?B.substring(0,B.length-c-1)+Array(c+1).join("▀"):B.substring(0,B.length-1)};return m.createASCII=function(d,f){if(d=d||1,d<2)return me(f);d-=1,f=typeof f>"u"?d*2:f;let c=m.getModuleCount()*d+f*2,_=f,h=c-f,b,$,k,A,S=Array(d+1).join("██"),w=Array(d+1).join("  "),E="",B="";for(b=0;b<c;b+=1){for(k=Math.floor((b-_)/d),B="",$=0;$<c;$+=1)A=1,_<=$&&$<h&&_<=b&&b<h&&m.isDark(k,Math.floor(($-_)/d))&&(A=0),B+=A?S:w;for(k=0;k<d;k+=1)E+=B+`
`}return E.substring(0,E.length-1)},m.renderTo2dContext=function(d,f){f=f||2;let c=m.getModuleCount();for(let _=0;_<c;_++)for(let h=0;h<c;h++)d.fillStyle=m.isDark(_,h)?"black":"white",d.fillRect(h*f,_*f,f,f)},m};st.stringToBytes=function(r){let t=[];for(let e=0;e<r.length;e+=1){let i=r.charCodeAt(e);t.push(i&255)}return t};st.createStringToBytes=function(r,t){let e=(function(){let s=je(r),n=function(){let l=s.read();if(l==-1)throw"eof";return l},o=0,a={};for(;;){let l=s.read();if(l==-1)break;let p=n(),m=n(),u=n(),g=String.fromCharCode(l<<8|p),v=m<<8|u;a[g]=v,o+=1}if(o!=t)throw o+" != "+t;return a})(),i=63;return function(s){let n=[];for(let o=0;o<s.length;o+=1){let a=s.charCodeAt(o);if(a<128)n.push(a);else{let l=e[s.charAt(o)];typeof l=="number"?(l&255)==l?n.push(l):(n.push(l>>>8),n.push(l&255)):n.push(i)}}return n}};var M={MODE_NUMBER:1,MODE_ALPHA_NUM:2,MODE_8BIT_BYTE:4,MODE_KANJI:8},_t={L:1,M:0,Q:3,H:2},F={PATTERN000:0,PATTERN001:1,PATTERN010:2,PATTERN011:3,PATTERN100:4,PATTERN101:5,PATTERN110:6,PATTERN111:7},q=(function(){let r=[[],[6,18],[6,22],[6,26],[6,30],[6,34],[6,22,38],[6,24,42],[6,26,46],[6,28,50],[6,30,54],[6,32,58],[6,34,62],[6,26,46,66],[6,26,48,70],[6,26,50,74],[6,30,54,78],[6,30,56,82],[6,30,58,86],[6,34,62,90],[6,28,50,72,94],[6,26,50,74,98],[6,30,54,78,102],[6,28,54,80,106],[6,32,58,84,110],[6,30,58,86,114],[6,34,62,90,118],[6,26,50,74,98,122],[6,30,54,78,102,126],[6,26,52,78,104,130],[6,30,56,82,108,134],[6,34,60,86,112,138],[6,30,58,86,114,142],[6,34,62,90,118,146],[6,30,54,78,102,126,150],[6,24,50,76,102,128,154],[6,28,54,80,106,132,158],[6,32,58,84,110,136,162],[6,26,54,82,110,138,166],[6,30,58,86,114,142,170]],t=1335,e=7973,i=21522,s={},n=function(o){let a=0;for(;o!=0;)a+=1,o>>>=1;return a};return s.getBCHTypeInfo=function(o){let a=o<<10;for(;n(a)-n(t)>=0;)a^=t<<n(a)-n(t);return(o<<10|a)^i},s.getBCHTypeNumber=function(o){let a=o<<12;for(;n(a)-n(e)>=0;)a^=e<<n(a)-n(e);return o<<12|a},s.getPatternPosition=function(o){return r[o-1]},s.getMaskFunction=function(o){switch(o){case F.PATTERN000:return function(a,l){return(a+l)%2==0};case F.PATTERN001:return function(a,l){return a%2==0};case F.PATTERN010:return function(a,l){return l%3==0};case F.PATTERN011:return function(a,l){return(a+l)%3==0};case F.PATTERN100:return function(a,l){return(Math.floor(a/2)+Math.floor(l/3))%2==0};case F.PATTERN101:return function(a,l){return a*l%2+a*l%3==0};case F.PATTERN110:return function(a,l){return(a*l%2+a*l%3)%2==0};case F.PATTERN111:return function(a,l){return(a*l%3+(a+l)%2)%2==0};default:throw"bad maskPattern:"+o}},s.getErrorCorrectPolynomial=function(o){let a=ft([1],0);for(let l=0;l<o;l+=1)a=a.multiply(ft([1,Z.gexp(l)],0));return a},s.getLengthInBits=function(o,a){if(1<=a&&a<10)switch(o){case M.MODE_NUMBER:return 10;case M.MODE_ALPHA_NUM:return 9;case M.MODE_8BIT_BYTE:return 8;case M.MODE_KANJI:return 8;default:throw"mode:"+o}else if(a<27)switch(o){case M.MODE_NUMBER:return 12;case M.MODE_ALPHA_NUM:return 11;case M.MODE_8BIT_BYTE:return 16;case M.MODE_KANJI:return 10;default:throw"mode:"+o}else if(a<41)switch(o){case M.MODE_NUMBER:return 14;case M.MODE_ALPHA_NUM:return 13;case M.MODE_8BIT_BYTE:return 16;case M.MODE_KANJI:return 12;default:throw"mode:"+o}else throw"type:"+a},s.getLostPoint=function(o){let a=o.getModuleCount(),l=0;for(let u=0;u<a;u+=1)for(let g=0;g<a;g+=1){let v=0,T=o.isDark(u,g);for(let C=-1;C<=1;C+=1)if(!(u+C<0||a<=u+C))for(let N=-1;N<=1;N+=1)g+N<0||a<=g+N||C==0&&N==0||T==o.isDark(u+C,g+N)&&(v+=1);v>5&&(l+=3+v-5)}for(let u=0;u<a-1;u+=1)for(let g=0;g<a-1;g+=1){let v=0;o.isDark(u,g)&&(v+=1),o.isDark(u+1,g)&&(v+=1),o.isDark(u,g+1)&&(v+=1),o.isDark(u+1,g+1)&&(v+=1),(v==0||v==4)&&(l+=3)}for(let u=0;u<a;u+=1)for(let g=0;g<a-6;g+=1)o.isDark(u,g)&&!o.isDark(u,g+1)&&o.isDark(u,g+2)&&o.isDark(u,g+3)&&o.isDark(u,g+4)&&!o.isDark(u,g+5)&&o.isDark(u,g+6)&&(l+=40);for(let u=0;u<a;u+=1)for(let g=0;g<a-6;g+=1)o.isDark(g,u)&&!o.isDark(g+1,u)&&o.isDark(g+2,u)&&o.isDark(g+3,u)&&o.isDark(g+4,u)&&!o.isDark(g+5,u)&&o.isDark(g+6,u)&&(l+=40);let p=0;for(let u=0;u<a;u+=1)for(let g=0;g<a;g+=1)o.isDark(g,u)&&(p+=1);let m=Math.abs(100*p/a/a-50)/5;return l+=m*10,l},s})(),Z=(function(){let r=new Array(256),t=new Array(256);for(let i=0;i<8;i+=1)r[i]=1<<i;for(let i=8;i<256;i+=1)r[i]=r[i-4]^r[i-5]^r[i-6]^r[i-8];for(let i=0;i<255;i+=1)t[r[i]]=i;let e={};return e.glog=function(i){if(i<1)throw"glog("+i+")";return t[i]},e.gexp=function(i){for(;i<0;)i+=255;for(;i>=256;)i-=255;return r[i]},e})(),ft=function(r,t){if(typeof r.length>"u")throw r.length+"/"+t;let e=(function(){let s=0;for(;s<r.length&&r[s]==0;)s+=1;let n=new Array(r.length-s+t);for(let o=0;o<r.length-s;o+=1)n[o]=r[o+s];return n})(),i={};return i.getAt=function(s){return e[s]},i.getLength=function(){return e.length},i.multiply=function(s){let n=new Array(i.getLength()+s.getLength()-1);for(let o=0;o<i.getLength();o+=1)for(let a=0;a<s.getLength();a+=1)n[o+a]^=Z.gexp(Z.glog(i.getAt(o))+Z.glog(s.getAt(a)));return ft(n,0)},i.mod=function(s){if(i.getLength()-s.getLength()<0)return i;let n=Z.glog(i.getAt(0))-Z.glog(s.getAt(0)),o=new Array(i.getLength());for(let a=0;a<i.getLength();a+=1)o[a]=i.getAt(a);for(let a=0;a<s.getLength();a+=1)o[a]^=Z.gexp(Z.glog(s.getAt(a))+n);return ft(o,0).mod(s)},i},ue=(function(){let r=[[1,26,19],[1,26,16],[1,26,13],[1,26,9],[1,44,34],[1,44,28],[1,44,22],[1,44,16],[1,70,55],[1,70,44],[2,35,17],[2,35,13],[1,100,80],[2,50,32],[2,50,24],[4,25,9],[1,134,108],[2,67,43],[2,33,15,2,34,16],[2,33,11,2,34,12],[2,86,68],[4,43,27],[4,43,19],[4,43,15],[2,98,78],[4,49,31],[2,32,14,4,33,15],[4,39,13,1,40,14],[2,121,97],[2,60,38,2,61,39],[4,40,18,2,41,19],[4,40,14,2,41,15],[2,146,116],[3,58,36,2,59,37],[4,36,16,4,37,17],[4,36,12,4,37,13],[2,86,68,2,87,69],[4,69,43,1,70,44],[6,43,19,2,44,20],[6,43,15,2,44,16],[4,101,81],[1,80,50,4,81,51],[4,50,22,4,51,23],[3,36,12,8,37,13],[2,116,92,2,117,93],[6,58,36,2,59,37],[4,46,20,6,47,21],[7,42,14,4,43,15],[4,133,107],[8,59,37,1,60,38],[8,44,20,4,45,21],[12,33,11,4,34,12],[3,145,115,1,146,116],[4,64,40,5,65,41],[11,36,16,5,37,17],[11,36,12,5,37,13],[5,109,87,1,110,88],[5,65,41,5,66,42],[5,54,24,7,55,25],[11,36,12,7,37,13],[5,122,98,1,123,99],[7,73,45,3,74,46],[15,43,19,2,44,20],[3,45,15,13,46,16],[1,135,107,5,136,108],[10,74,46,1,75,47],[1,50,22,15,51,23],[2,42,14,17,43,15],[5,150,120,1,151,121],[9,69,43,4,70,44],[17,50,22,1,51,23],[2,42,14,19,43,15],[3,141,113,4,142,114],[3,70,44,11,71,45],[17,47,21,4,48,22],[9,39,13,16,40,14],[3,135,107,5,136,108],[3,67,41,13,68,42],[15,54,24,5,55,25],[15,43,15,10,44,16],[4,144,116,4,145,117],[17,68,42],[17,50,22,6,51,23],[19,46,16,6,47,17],[2,139,111,7,140,112],[17,74,46],[7,54,24,16,55,25],[34,37,13],[4,151,121,5,152,122],[4,75,47,14,76,48],[11,54,24,14,55,25],[16,45,15,14,46,16],[6,147,117,4,148,118],[6,73,45,14,74,46],[11,54,24,16,55,25],[30,46,16,2,47,17],[8,132,106,4,133,107],[8,75,47,13,76,48],[7,54,24,22,55,25],[22,45,15,13,46,16],[10,142,114,2,143,115],[19,74,46,4,75,47],[28,50,22,6,51,23],[33,46,16,4,47,17],[8,152,122,4,153,123],[22,73,45,3,74,46],[8,53,23,26,54,24],[12,45,15,28,46,16],[3,147,117,10,148,118],[3,73,45,23,74,46],[4,54,24,31,55,25],[11,45,15,31,46,16],[7,146,116,7,147,117],[21,73,45,7,74,46],[1,53,23,37,54,24],[19,45,15,26,46,16],[5,145,115,10,146,116],[19,75,47,10,76,48],[15,54,24,25,55,25],[23,45,15,25,46,16],[13,145,115,3,146,116],[2,74,46,29,75,47],[42,54,24,1,55,25],[23,45,15,28,46,16],[17,145,115],[10,74,46,23,75,47],[10,54,24,35,55,25],[19,45,15,35,46,16],[17,145,115,1,146,116],[14,74,46,21,75,47],[29,54,24,19,55,25],[11,45,15,46,46,16],[13,145,115,6,146,116],[14,74,46,23,75,47],[44,54,24,7,55,25],[59,46,16,1,47,17],[12,151,121,7,152,122],[12,75,47,26,76,48],[39,54,24,14,55,25],[22,45,15,41,46,16],[6,151,121,14,152,122],[6,75,47,34,76,48],[46,54,24,10,55,25],[2,45,15,64,46,16],[17,152,122,4,153,123],[29,74,46,14,75,47],[49,54,24,10,55,25],[24,45,15,46,46,16],[4,152,122,18,153,123],[13,74,46,32,75,47],[48,54,24,14,55,25],[42,45,15,32,46,16],[20,147,117,4,148,118],[40,75,47,7,76,48],[43,54,24,22,55,25],[10,45,15,67,46,16],[19,148,118,6,149,119],[18,75,47,31,76,48],[34,54,24,34,55,25],[20,45,15,61,46,16]],t=function(s,n){let o={};return o.totalCount=s,o.dataCount=n,o},e={},i=function(s,n){switch(n){case _t.L:return r[(s-1)*4+0];case _t.M:return r[(s-1)*4+1];case _t.Q:return r[(s-1)*4+2];case _t.H:return r[(s-1)*4+3];default:return}};return e.getRSBlocks=function(s,n){let o=i(s,n);if(typeof o>"u")throw"bad rs block @ typeNumber:"+s+"/errorCorrectionLevel:"+n;let a=o.length/3,l=[];for(let p=0;p<a;p+=1){let m=o[p*3+0],u=o[p*3+1],g=o[p*3+2];for(let v=0;v<m;v+=1)l.push(t(u,g))}return l},e})(),_e=function(){let r=[],t=0,e={};return e.getBuffer=function(){return r},e.getAt=function(i){let s=Math.floor(i/8);return(r[s]>>>7-i%8&1)==1},e.put=function(i,s){for(let n=0;n<s;n+=1)e.putBit((i>>>s-n-1&1)==1)},e.getLengthInBits=function(){return t},e.putBit=function(i){let s=Math.floor(t/8);r.length<=s&&r.push(0),i&&(r[s]|=128>>>t%8),t+=1},e},Le=function(r){let t=M.MODE_NUMBER,e=r,i={};i.getMode=function(){return t},i.getLength=function(o){return e.length},i.write=function(o){let a=e,l=0;for(;l+2<a.length;)o.put(s(a.substring(l,l+3)),10),l+=3;l<a.length&&(a.length-l==1?o.put(s(a.substring(l,l+1)),4):a.length-l==2&&o.put(s(a.substring(l,l+2)),7))};let s=function(o){let a=0;for(let l=0;l<o.length;l+=1)a=a*10+n(o.charAt(l));return a},n=function(o){if("0"<=o&&o<="9")return o.charCodeAt(0)-48;throw"illegal char :"+o};return i},Re=function(r){let t=M.MODE_ALPHA_NUM,e=r,i={};i.getMode=function(){return t},i.getLength=function(n){return e.length},i.write=function(n){let o=e,a=0;for(;a+1<o.length;)n.put(s(o.charAt(a))*45+s(o.charAt(a+1)),11),a+=2;a<o.length&&n.put(s(o.charAt(a)),6)};let s=function(n){if("0"<=n&&n<="9")return n.charCodeAt(0)-48;if("A"<=n&&n<="Z")return n.charCodeAt(0)-65+10;switch(n){case" ":return 36;case"$":return 37;case"%":return 38;case"*":return 39;case"+":return 40;case"-":return 41;case".":return 42;case"/":return 43;case":":return 44;default:throw"illegal char :"+n}};return i},Oe=function(r){let t=M.MODE_8BIT_BYTE,e=r,i=st.stringToBytes(r),s={};return s.getMode=function(){return t},s.getLength=function(n){return i.length},s.write=function(n){for(let o=0;o<i.length;o+=1)n.put(i[o],8)},s},Ue=function(r){let t=M.MODE_KANJI,e=r,i=st.stringToBytes;(function(o,a){let l=i(o);if(l.length!=2||(l[0]<<8|l[1])!=a)throw"sjis not supported."})("友",38726);let s=i(r),n={};return n.getMode=function(){return t},n.getLength=function(o){return~~(s.length/2)},n.write=function(o){let a=s,l=0;for(;l+1<a.length;){let p=(255&a[l])<<8|255&a[l+1];if(33088<=p&&p<=40956)p-=33088;else if(57408<=p&&p<=60351)p-=49472;else throw"illegal char at "+(l+1)+"/"+p;p=(p>>>8&255)*192+(p&255),o.put(p,13),l+=2}if(l<a.length)throw"illegal char at "+(l+1)},n},fe=function(){let r=[],t={};return t.writeByte=function(e){r.push(e&255)},t.writeShort=function(e){t.writeByte(e),t.writeByte(e>>>8)},t.writeBytes=function(e,i,s){i=i||0,s=s||e.length;for(let n=0;n<s;n+=1)t.writeByte(e[n+i])},t.writeString=function(e){for(let i=0;i<e.length;i+=1)t.writeByte(e.charCodeAt(i))},t.toByteArray=function(){return r},t.toString=function(){let e="";e+="[";for(let i=0;i<r.length;i+=1)i>0&&(e+=","),e+=r[i];return e+="]",e},t},He=function(){let r=0,t=0,e=0,i="",s={},n=function(a){i+=String.fromCharCode(o(a&63))},o=function(a){if(a<0)throw"n:"+a;if(a<26)return 65+a;if(a<52)return 97+(a-26);if(a<62)return 48+(a-52);if(a==62)return 43;if(a==63)return 47;throw"n:"+a};return s.writeByte=function(a){for(r=r<<8|a&255,t+=8,e+=1;t>=6;)n(r>>>t-6),t-=6},s.flush=function(){if(t>0&&(n(r<<6-t),r=0,t=0),e%3!=0){let a=3-e%3;for(let l=0;l<a;l+=1)i+="="}},s.toString=function(){return i},s},je=function(r){let t=r,e=0,i=0,s=0,n={};n.read=function(){for(;s<8;){if(e>=t.length){if(s==0)return-1;throw"unexpected end of file./"+s}let l=t.charAt(e);if(e+=1,l=="=")return s=0,-1;if(l.match(/^\s$/))continue;i=i<<6|o(l.charCodeAt(0)),s+=6}let a=i>>>s-8&255;return s-=8,a};let o=function(a){if(65<=a&&a<=90)return a-65;if(97<=a&&a<=122)return a-97+26;if(48<=a&&a<=57)return a-48+52;if(a==43)return 62;if(a==47)return 63;throw"c:"+a};return n},Ke=function(r,t){let e=r,i=t,s=new Array(r*t),n={};n.setPixel=function(p,m,u){s[m*e+p]=u},n.write=function(p){p.writeString("GIF87a"),p.writeShort(e),p.writeShort(i),p.writeByte(128),p.writeByte(0),p.writeByte(0),p.writeByte(0),p.writeByte(0),p.writeByte(0),p.writeByte(255),p.writeByte(255),p.writeByte(255),p.writeString(","),p.writeShort(0),p.writeShort(0),p.writeShort(e),p.writeShort(i),p.writeByte(0);let m=2,u=a(m);p.writeByte(m);let g=0;for(;u.length-g>255;)p.writeByte(255),p.writeBytes(u,g,255),g+=255;p.writeByte(u.length-g),p.writeBytes(u,g,u.length-g),p.writeByte(0),p.writeString(";")};let o=function(p){let m=p,u=0,g=0,v={};return v.write=function(T,C){if(T>>>C)throw"length over";for(;u+C>=8;)m.writeByte(255&(T<<u|g)),C-=8-u,T>>>=8-u,g=0,u=0;g=T<<u|g,u=u+C},v.flush=function(){u>0&&m.writeByte(g)},v},a=function(p){let m=1<<p,u=(1<<p)+1,g=p+1,v=l();for(let D=0;D<m;D+=1)v.add(String.fromCharCode(D));v.add(String.fromCharCode(m)),v.add(String.fromCharCode(u));let T=fe(),C=o(T);C.write(m,g);let N=0,L=String.fromCharCode(s[N]);for(N+=1;N<s.length;){let D=String.fromCharCode(s[N]);N+=1,v.contains(L+D)?L=L+D:(C.write(v.indexOf(L),g),v.size()<4095&&(v.size()==1<<g&&(g+=1),v.add(L+D)),L=D)}return C.write(v.indexOf(L),g),C.write(u,g),C.flush(),T.toByteArray()},l=function(){let p={},m=0,u={};return u.add=function(g){if(u.contains(g))throw"dup key:"+g;p[g]=m,m+=1},u.size=function(){return m},u.indexOf=function(g){return p[g]},u.contains=function(g){return typeof p[g]<"u"},u};return n},Ge=function(r,t,e){let i=Ke(r,t);for(let a=0;a<t;a+=1)for(let l=0;l<r;l+=1)i.setPixel(l,a,e(l,a));let s=fe();i.write(s);let n=He(),o=s.toByteArray();for(let a=0;a<o.length;a+=1)n.writeByte(o[a]);return n.flush(),"data:image/gif;base64,"+n},pe=st,ki=st.stringToBytes;function We(r){let t=pe(0,"M");return t.addData(r),t.make(),t.createDataURL(6,4)}var Ht=class extends P{static properties={hass:{attribute:!1},dict:{attribute:!1},grant:{attribute:!1},link:{attribute:!1},error:{attribute:!1},_copied:{state:!0}};_t(t,e){return W(this.dict,t,e)}_url(){let t=this.link?.url??"";return t.startsWith("/")?new URL(t,window.location.origin).href:t}async _copy(){this._copied=await wt(this._url(),this.renderRoot.querySelector(".url"))}async _share(){try{await navigator.share({title:this.grant.label,text:this._t("link_share_text",{label:this.grant.label}),url:this._url()})}catch{}}_close(){this.dispatchEvent(new CustomEvent("closed",{bubbles:!0,composed:!0}))}render(){let t=this._url(),e=typeof navigator.share=="function";return y`<div class="overlay">
      <div class="dialog link-dialog" role="dialog" aria-modal="true">
        <h2>${this._t("link_title",{label:this.grant.label})}</h2>
        ${this.error?y`<p class="error" role="alert">${this.error}</p>`:this.link?y`
              <img class="qr" src=${We(t)} alt="QR" />
              <p class="muted">${this._t("link_scan")}</p>
              <input class="url" readonly .value=${t} aria-label=${this._t("guest_link")} />
              ${this.link.expires?y`<p class="muted">${this._t("link_expires",{when:X(K(this.hass),this.link.expires)})}</p>`:x}
              <div class="buttons">
                <button class="copy" @click=${this._copy}>${this._copied?this._t("copied"):this._t("copy")}</button>
                ${e?y`<button class="share" @click=${this._share}>${this._t("share")}</button>`:x}
              </div>`:y`<p class="muted">${this._t("loading")}</p>`}
        <div class="buttons"><button class="primary" @click=${this._close}>${this._t("close")}</button></div>
      </div>
    </div>`}static styles=[z,R`
      .qr {
        display: block;
        margin: 0 auto;
        width: min(240px, 70vw);
        image-rendering: pixelated;
        background: #fff;
      }
      .url {
        width: 100%;
      }
    `]};customElements.get("concierge-link-dialog")||customElements.define("concierge-link-dialog",Ht);var jt=class extends P{static properties={hass:{attribute:!1},site:{attribute:!1},dict:{attribute:!1},_visits:{state:!0},_error:{state:!0}};_t(t,e){return W(this.dict,t,e)}willUpdate(t){t.has("site")&&this.site&&this.site.site_id!==this._loadedFor&&(this._loadedFor=this.site.site_id,this._visits=void 0,this._load())}async _load(){let t=this.site.site_id;try{let{visits:e}=await O.visits(this.hass,t);t===this._loadedFor&&(this._visits=e)}catch(e){this._error=j(e)}}_door(t){return this.site?.portals.find(e=>e.id===t)?.name??t}render(){if(this._error)return y`<p class="error" role="alert">${this._t("error",{message:this._error})}</p>`;if(this._visits===void 0)return y`<p class="muted">${this._t("loading")}</p>`;if(!this._visits.length)return y`<p class="empty">${this._t("no_visits")}</p>`;let t=K(this.hass);return y`<ul class="visits">${this._visits.map(e=>y`<li class="visit" data-visit=${e.visit_id}>
        <div class="head">
          <strong>${e.label}</strong> · ${this._door(e.portal)} ·
          ${X(t,e.started)}${e.ended?` – ${$t(t,e.ended)}`:""}
          <span class="outcome ${e.outcome}">${I(this.dict,"outcome",e.outcome)}</span>
        </div>
        ${e.evidence?.length?y`<div class="evidence">${e.evidence.filter(i=>i.url).map(i=>i.kind==="snapshot"?y`<a href=${i.url} target="_blank" rel="noopener"><img loading="lazy" src=${i.url} alt=${i.ref} /></a>`:y`<a href=${i.url} target="_blank" rel="noopener">▶ ${i.ref}</a>`)}</div>`:x}
      </li>`)}</ul>`}static styles=[z,R`
      .visits {
        list-style: none;
        padding: 0;
        margin: 0;
        display: flex;
        flex-direction: column;
        gap: 8px;
      }
      .visit {
        background: var(--card-background-color, #fff);
        border-radius: var(--ha-card-border-radius, 12px);
        box-shadow: var(--ha-card-box-shadow, 0 1px 3px rgba(0, 0, 0, 0.15));
        padding: 10px 12px;
      }
      .outcome {
        margin-left: 6px;
        padding: 1px 8px;
        border-radius: 10px;
        background: var(--secondary-background-color, #eee);
      }
      .evidence {
        display: flex;
        gap: 6px;
        flex-wrap: wrap;
        margin-top: 6px;
      }
      .evidence img {
        height: 72px;
        border-radius: 6px;
      }
    `]};customElements.get("concierge-visits")||customElements.define("concierge-visits",jt);var Kt={active:0,scheduled:1,suspended:2,used_up:3,expired:4,revoked:5},ze=new Set(["revoked","expired","used_up"]),Gt=class extends P{static properties={hass:{attribute:!1},narrow:{type:Boolean},panel:{attribute:!1},_sites:{state:!0},_siteId:{state:!0},_grants:{state:!0},_search:{state:!0},_stateFilter:{state:!0},_tab:{state:!0},_dialog:{state:!0},_error:{state:!0}};constructor(){super(),this._sites=void 0,this._siteId=void 0,this._grants=void 0,this._search="",this._stateFilter="",this._tab="grants",this._dialog=null,this._error="",this._unsubscribe=null,this._subscribedTo=null,this._lastLanguage=void 0}get _dict(){return de(this.hass?.language)}_t(t,e){return W(this._dict,t,e)}connectedCallback(){super.connectedCallback(),this.hass&&this._sites&&this._subscribe()}disconnectedCallback(){super.disconnectedCallback(),this._unsubscribeNow()}willUpdate(t){t.has("hass")&&this.hass&&this._sites===void 0&&(this._sites=null,this._loadSites())}async _loadSites(){try{let{sites:t}=await O.sites(this.hass);this._sites=t,t.length&&!t.some(e=>e.site_id===this._siteId)&&(this._siteId=t[0].site_id),this._subscribe()}catch(t){this._sites=[],this._error=j(t)}}async _subscribe(){if(!this._siteId||this._subscribedTo===this._siteId)return;this._unsubscribeNow(),this._grants=void 0;let t=this._siteId;this._subscribedTo=t;try{let e=await O.subscribeGrants(this.hass,t,i=>this._onGrants(t,i));this._subscribedTo!==t?e():this._unsubscribe=e}catch(e){this._subscribedTo=null,this._error=j(e)}}_unsubscribeNow(){if(this._unsubscribe){let t=this._unsubscribe;this._unsubscribe=null,Promise.resolve(t()).catch(()=>{})}this._subscribedTo=null}_onGrants(t,e){if(t!==this._siteId)return;let i=new Map(this._grants||[]);for(let s of e.grants||[])i.set(s.grant_id,s);for(let s of e.removed||[])i.delete(s);this._grants=i}get _site(){return(this._sites||[]).find(t=>t.site_id===this._siteId)}_doorName(t){return this._site?.portals.find(e=>e.id===t)?.name??t}_windowText(t,e,i){let s=e.current_or_next;return s?new Date(s.start).getTime()<=i?this._t("now_until",{end:X(t,s.end)}):this._t("next",{start:X(t,s.start),end:$t(t,s.end)}):this._t("no_window")}_weeklyText(t){let e=t.window;if(!e||e.kind!=="weekly")return"";let i=ht.filter(s=>(e.weekdays||[]).includes(s)).map(s=>this._t(`wd_${s}`));return this._t("weekly_every",{days:i.join(", "),start:e.start_time,end:e.end_time})}_visibleGrants(){let t=this._dict,e=this._search.trim().toLowerCase(),i=[...this._grants?.values()||[]].filter(n=>this._stateFilter&&n.state!==this._stateFilter?!1:e?[n.label,n.kind,I(t,"kind",n.kind),I(t,"state",n.state),...n.portals.map(a=>this._doorName(a))].join(" ").toLowerCase().includes(e):!0),s=n=>n.current_or_next?new Date(n.current_or_next.start).getTime():1/0;return i.sort((n,o)=>(Kt[n.state]??9)-(Kt[o.state]??9)||s(n)-s(o)||n.label.localeCompare(o.label)),i}render(){return this.hass?y`
      <div class="toolbar">
        <h1>${this._t("title")}</h1>
        <nav>
          <button class=${this._tab==="grants"?"tab on":"tab"} @click=${()=>this._tab="grants"}>
            ${this._t("tab_grants")}
          </button>
          <button class=${this._tab==="visits"?"tab on":"tab"} @click=${()=>this._tab="visits"}>
            ${this._t("tab_visits")}
          </button>
        </nav>
        ${(this._sites||[]).length>1?y`<label class="site">${this._t("site")}
              <select @change=${this._pickSite}>
                ${this._sites.map(t=>y`<option value=${t.site_id} ?selected=${t.site_id===this._siteId}>${t.name}</option>`)}
              </select></label>`:x}
      </div>
      <div class="content">
        ${this._error?y`<p class="error" role="alert">${this._t("error",{message:this._error})}</p>`:x}
        ${this._sites===null||this._sites===void 0?y`<p class="muted">${this._t("loading")}</p>`:this._sites.length?this._tab==="grants"?this._renderGrants():y`<concierge-visits .hass=${this.hass} .site=${this._site} .dict=${this._dict}></concierge-visits>`:y`<p>${this._t("no_sites")}</p>`}
      </div>
      ${this._renderDialog()}
    `:x}_pickSite(t){this._siteId=t.target.value,this._subscribe()}_renderGrants(){let t=this._dict,e=K(this.hass),i=Date.now(),s=this._grants?this._visibleGrants():[];return y`
      <div class="filters">
        <input type="search" class="search" placeholder=${this._t("search")} aria-label=${this._t("search")}
          .value=${this._search} @input=${n=>this._search=n.target.value} />
        <select aria-label=${this._t("col_state")} @change=${n=>this._stateFilter=n.target.value}>
          <option value="">${this._t("col_state")}: *</option>
          ${Object.keys(Kt).map(n=>y`<option value=${n} ?selected=${n===this._stateFilter}>${I(t,"state",n)}</option>`)}
        </select>
        <button class="primary new" @click=${()=>this._dialog={type:"grant",grant:null}}>+ ${this._t("new_grant")}</button>
      </div>
      ${this._grants===void 0?y`<p class="muted">${this._t("loading")}</p>`:this._grants.size?s.length?y`<table class="grants">
                <thead><tr>
                  <th>${this._t("col_label")}</th><th>${this._t("col_kind")}</th><th>${this._t("col_doors")}</th>
                  <th>${this._t("col_window")}</th><th>${this._t("col_state")}</th><th>${this._t("col_uses")}</th>
                  <th>${this._t("col_codes")}</th><th>${this._t("col_actions")}</th>
                </tr></thead>
                <tbody>${s.map(n=>this._renderRow(t,e,i,n))}</tbody>
              </table>`:y`<p class="empty">${this._t("no_match")}</p>`:y`<p class="empty">${this._t("no_grants")}</p>`}
    `}_renderRow(t,e,i,s){let n=ze.has(s.state),o=this._weeklyText(s);return y`<tr class="grant" data-grant=${s.grant_id}>
      <td class="label" data-title=${this._t("col_label")}><strong>${s.label}</strong></td>
      <td data-title=${this._t("col_kind")}>${I(t,"kind",s.kind)}</td>
      <td data-title=${this._t("col_doors")}>${s.portals.map(a=>this._doorName(a)).join(", ")}</td>
      <td data-title=${this._t("col_window")}>${this._windowText(e,s,i)}${o?y`<div class="muted">${o}</div>`:x}</td>
      <td data-title=${this._t("col_state")}><span class="state ${s.state}">${I(t,"state",s.state)}</span></td>
      <td data-title=${this._t("col_uses")}>${s.uses}${s.max_uses?` / ${s.max_uses}`:""}</td>
      <td data-title=${this._t("col_codes")}><div class="codes">${Object.keys(s.codes||{}).length?Object.entries(s.codes).map(([a,l])=>y`<span class="code ${l}">${this._doorName(a)}: ${I(t,"code",l)}</span>`):"—"}</div></td>
      <td><div class="actions">
        ${n?x:y`<button @click=${()=>this._dialog={type:"grant",grant:s}}>${this._t("edit")}</button>`}
        ${s.state==="suspended"?y`<button @click=${()=>this._confirm("resume",s)}>${this._t("resume")}</button>`:n?x:y`<button @click=${()=>this._confirm("suspend",s)}>${this._t("suspend")}</button>`}
        ${s.guest_link&&!n?y`<button @click=${()=>this._guestLink(s)}>${this._t("guest_link")}</button>`:x}
        ${s.state==="revoked"?x:y`<button class="danger" @click=${()=>this._confirm("revoke",s)}>${this._t("revoke")}</button>`}
      </div></td>
    </tr>`}_confirm(t,e){this._dialog={type:"confirm",action:t,grant:e,busy:!1,error:""}}async _runConfirmed(){let{action:t,grant:e}=this._dialog;this._dialog={...this._dialog,busy:!0,error:""};try{await O.grantAction(this.hass,this._siteId,t,e.grant_id),this._dialog=null}catch(i){this._dialog={...this._dialog,busy:!1,error:j(i)}}}async _guestLink(t){this._dialog={type:"link",grant:t,link:null,error:""};try{let e=await O.createGuestLink(this.hass,this._siteId,t.grant_id);this._dialog?.grant===t&&(this._dialog={...this._dialog,link:e})}catch(e){this._dialog?.grant===t&&(this._dialog={...this._dialog,error:j(e)})}}_renderDialog(){let t=this._dialog;if(!t)return x;let e=()=>this._dialog=null;if(t.type==="grant")return y`<concierge-grant-dialog .hass=${this.hass} .dict=${this._dict} .site=${this._site}
        .grant=${t.grant} @closed=${e}></concierge-grant-dialog>`;if(t.type==="link")return y`<concierge-link-dialog .hass=${this.hass} .dict=${this._dict} .grant=${t.grant}
        .link=${t.link} .error=${t.error} @closed=${e}></concierge-link-dialog>`;let i=t.action==="revoke";return y`<div class="overlay" @click=${s=>s.target===s.currentTarget&&e()}>
      <div class="dialog confirm" role="alertdialog" aria-modal="true">
        <h2>${this._t(t.action)}</h2>
        <p>${this._t(`confirm_${t.action}`,{label:t.grant.label})}</p>
        ${t.error?y`<p class="error" role="alert">${t.error}</p>`:x}
        <div class="buttons">
          <button @click=${e}>${this._t("cancel")}</button>
          <button class=${i?"primary danger ok":"primary ok"} ?disabled=${t.busy} @click=${this._runConfirmed}>
            ${this._t(t.action)}
          </button>
        </div>
      </div>
    </div>`}static styles=[z,R`
      :host {
        display: block;
        min-height: 100vh;
        background: var(--primary-background-color, #fafafa);
      }
      .toolbar {
        display: flex;
        align-items: center;
        gap: 12px;
        flex-wrap: wrap;
        padding: 8px 16px;
        background: var(--app-header-background-color, var(--primary-color, #03a9f4));
        color: var(--app-header-text-color, var(--text-primary-color, #fff));
      }
      .toolbar h1 {
        font-size: 20px;
        font-weight: 400;
        margin: 0 8px 0 0;
      }
      nav {
        display: flex;
        gap: 4px;
      }
      .tab {
        background: transparent;
        border: none;
        color: inherit;
        opacity: 0.75;
        border-bottom: 2px solid transparent;
        border-radius: 0;
      }
      .tab.on {
        opacity: 1;
        border-bottom-color: currentColor;
      }
      .site {
        margin-left: auto;
        display: flex;
        gap: 6px;
        align-items: center;
      }
      .content {
        padding: 16px;
        max-width: 1400px;
        margin: 0 auto;
      }
      .filters {
        display: flex;
        gap: 8px;
        flex-wrap: wrap;
        margin-bottom: 12px;
      }
      .search {
        flex: 1 1 200px;
      }
      table.grants {
        width: 100%;
        border-collapse: collapse;
        background: var(--card-background-color, #fff);
        border-radius: var(--ha-card-border-radius, 12px);
        overflow: hidden;
        box-shadow: var(--ha-card-box-shadow, 0 1px 3px rgba(0, 0, 0, 0.15));
      }
      th, td {
        text-align: left;
        padding: 8px 10px;
        border-bottom: 1px solid var(--divider-color, #e0e0e0);
        vertical-align: top;
      }
      th {
        font-weight: 500;
        color: var(--secondary-text-color, #727272);
      }
      .state {
        padding: 2px 8px;
        border-radius: 10px;
        background: var(--secondary-background-color, #eee);
        white-space: nowrap;
      }
      .state.active {
        background: var(--success-color, #43a047);
        color: #fff;
      }
      .state.suspended {
        background: var(--warning-color, #ffa600);
        color: #fff;
      }
      .codes {
        display: flex;
        flex-direction: column;
        gap: 2px;
      }
      .code.rejected, .code.no_free_slot, .code.not_removed {
        color: var(--error-color, #db4437);
      }
      .code.pending {
        color: var(--warning-color, #ffa600);
      }
      .code.no_keypad {
        color: var(--secondary-text-color, #727272);
      }
      .actions {
        display: flex;
        gap: 4px;
        flex-wrap: wrap;
      }
      .actions button {
        padding: 4px 8px;
        min-height: 32px;
      }
      @media (max-width: 760px) {
        table.grants, table.grants tbody, table.grants tr, table.grants td {
          display: block;
          width: auto;
        }
        table.grants thead {
          display: none;
        }
        table.grants tr {
          border-bottom: 8px solid var(--primary-background-color, #fafafa);
          padding: 4px 0;
        }
        table.grants td {
          border: none;
          padding: 3px 12px;
        }
        table.grants td[data-title]:not(.label)::before {
          content: attr(data-title) ": ";
          color: var(--secondary-text-color, #727272);
        }
      }
    `]};customElements.get("concierge-panel")||customElements.define("concierge-panel",Gt);export{Gt as ConciergePanel};
/*! Bundled license information:

@lit/reactive-element/css-tag.js:
  (**
   * @license
   * Copyright 2019 Google LLC
   * SPDX-License-Identifier: BSD-3-Clause
   *)

@lit/reactive-element/reactive-element.js:
lit-html/lit-html.js:
lit-element/lit-element.js:
  (**
   * @license
   * Copyright 2017 Google LLC
   * SPDX-License-Identifier: BSD-3-Clause
   *)

lit-html/is-server.js:
  (**
   * @license
   * Copyright 2022 Google LLC
   * SPDX-License-Identifier: BSD-3-Clause
   *)
*/
